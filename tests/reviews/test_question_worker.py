"""Questions end to end: a real Celery worker and a real SMTP server carry the ask-to-answer
email, the answer from its link, and the asker's email."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from loyalty.models import Transaction
from reviews.models import Answer, AnswerRequest
from reviews.questions import question_ask
from tests.factories import CustomerFactory, purchase
from tests.reviews.factories import SubjectFactory
from tests.support import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _text(message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode()
    raise AssertionError("no text part")


def test_ask_to_answer_email_answer_from_its_link_and_the_asker_told(
    celery_worker, smtp_sink, client
):
    beans = SubjectFactory(name="House blend", slug="house-blend")
    anna = CustomerFactory(first_name="Anna", last_name="Kim", community_emails=True)
    purchase(anna, subject_slug="house-blend")
    ben = CustomerFactory(first_name="Ben", last_name="Meyer")
    question_ask(author=ben, subject=beans, body="Good as espresso?")

    wait_for(lambda: smtp_sink.count_to(anna.user.email), timeout=60)
    request_mail = smtp_sink.messages[0]
    assert request_mail["Subject"] == "Ben M. asked about House blend: can you help?"
    assert request_mail["List-Unsubscribe"]
    link = re.search(r"(http\S+)#answer", _text(request_mail)).group(1)
    wait_for(lambda: AnswerRequest.objects.filter(sent_at__isnull=False).count() == 1)

    client.force_login(anna.user)
    path = urlsplit(link).path
    assert "Good as espresso?" in client.get(path).content.decode()
    response = client.post(path + "answer/", {"body": "Yes, chocolatey."})
    assert response.status_code == 302

    wait_for(lambda: smtp_sink.count_to(ben.user.email), timeout=60)
    told = next(m for m in smtp_sink.messages if m["To"] == ben.user.email)
    assert told["Subject"] == "Your question about House blend has an answer"
    assert "Yes, chocolatey." in _text(told)
    wait_for(lambda: Answer.objects.get().incentivised, timeout=60)
    assert Transaction.objects.filter(kind=Transaction.Kind.ANSWER_BONUS).count() == 1
    assert smtp_sink.count_to(anna.user.email) == 1
