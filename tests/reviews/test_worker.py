"""The survey path end to end: a real Celery worker, a real SMTP server, a real click."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from loyalty.models import Transaction
from reviews.models import FeedbackAlert, Review, Survey
from reviews.surveys import survey_schedule
from reviews.tasks import email_surveys_due, ledger_review_bonus
from tests.factories import ContactPersonFactory, CustomerFactory, purchase
from tests.reviews.factories import ReviewFactory
from tests.support import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _text(message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode()
    raise AssertionError("no text part")


def test_survey_email_click_score_and_detractor_alert(celery_worker, smtp_sink, client):
    contact = ContactPersonFactory(email="sam@example.com")
    customer = CustomerFactory(marketing_consent=True, contact_person=contact)
    survey = survey_schedule(conversion=purchase(customer))
    Survey.objects.filter(pk=survey.pk).update(send_after=timezone.now())

    email_surveys_due.delay()
    wait_for(lambda: smtp_sink.messages, timeout=60)
    message = smtp_sink.messages[0]
    assert message["To"] == customer.user.email
    links = dict(re.findall(r"^(\d+): (http\S+)", _text(message), re.MULTILINE))
    assert sorted(links, key=int) == [str(n) for n in range(11)]
    # The worker marks the survey after the server accepted the mail: a moment later.
    wait_for(lambda: Survey.objects.get(pk=survey.pk).status == Survey.Status.SENT, timeout=30)

    # Opening the link (as a mail scanner would) answers nothing; the person's click does.
    opened = client.get(urlsplit(links["2"]).path)
    assert opened.status_code == 200
    survey.refresh_from_db()
    assert survey.score is None and survey.status == Survey.Status.SENT
    response = client.post(urlsplit(links["2"]).path, {"score": 2}, follow=True)
    assert response.status_code == 200
    survey.refresh_from_db()
    assert survey.score == 2 and survey.status == Survey.Status.ANSWERED

    wait_for(lambda: len(smtp_sink.messages) >= 2, timeout=60)
    alert_mail = smtp_sink.messages[1]
    assert alert_mail["To"] == "sam@example.com"
    assert "scored us 2/10" in alert_mail["Subject"]
    alert = wait_for(lambda: FeedbackAlert.objects.filter(emailed_at__isnull=False).first())
    assert alert.survey_id == survey.pk and alert.status == FeedbackAlert.Status.OPEN
    assert client.get(urlsplit(links["10"]).path).status_code == 409


def test_the_points_task_twice_on_the_worker_posts_once(celery_worker):
    review = ReviewFactory()
    ledger_review_bonus.delay(review.pk)
    ledger_review_bonus.delay(review.pk)
    wait_for(lambda: Review.objects.get(pk=review.pk).incentivised, timeout=60)
    wait_for(
        lambda: len(re.findall(r"ledger_review_bonus\[\S+\] succeeded", celery_worker.log())) == 2,
        timeout=60,
    )
    assert Transaction.objects.filter(kind=Transaction.Kind.REVIEW_BONUS).count() == 1
