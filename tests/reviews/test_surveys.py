from __future__ import annotations

import re
from datetime import timedelta
from unittest import mock
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.urls import resolve, reverse
from django.utils import timezone

from customers.conversions import conversion_refund
from reviews.models import FeedbackAlert, ReviewPolicy, Survey
from reviews.surveys import survey_schedule, survey_send, survey_token, surveys_enqueue_due
from tests.factories import CustomerFactory, purchase

pytestmark = pytest.mark.django_db


def _consenting(**extra):
    return CustomerFactory(marketing_consent=True, **extra)


def _sent_survey(customer=None) -> Survey:
    survey = survey_schedule(conversion=purchase(customer or _consenting()))
    Survey.objects.filter(pk=survey.pk).update(send_after=timezone.now())
    assert survey_send(survey_id=survey.pk)
    survey.refresh_from_db()
    return survey


def _answer_path(survey: Survey, score: int) -> str:
    return reverse("reviews:survey_answer", args=[survey_token(survey), score])


def test_a_survey_is_scheduled_once_per_conversion_after_the_configured_delay():
    ReviewPolicy.objects.update_or_create(pk=1, defaults={"survey_delay_hours": 48})
    conversion = purchase(_consenting())
    survey = survey_schedule(conversion=conversion)
    assert survey_schedule(conversion=conversion) == survey
    assert Survey.objects.count() == 1
    assert survey.status == Survey.Status.SCHEDULED
    expected = conversion.occurred_at + timedelta(hours=48)
    assert abs(survey.send_after - expected) < timedelta(seconds=5)


def test_no_survey_without_marketing_consent_or_for_a_refunded_or_old_purchase():
    assert survey_schedule(conversion=purchase(CustomerFactory())) is None
    refunded = purchase(_consenting())
    conversion_refund(conversion=refunded)
    refunded.refresh_from_db()
    assert survey_schedule(conversion=refunded) is None
    old = purchase(_consenting(), occurred_at=timezone.now() - timedelta(days=60))
    assert survey_schedule(conversion=old) is None
    assert not Survey.objects.exists()


def test_a_customer_is_not_asked_again_within_the_cooldown():
    customer = _consenting()
    assert survey_schedule(conversion=purchase(customer)) is not None
    assert survey_schedule(conversion=purchase(customer)) is None


def test_the_sweep_enqueues_only_due_surveys_and_sending_happens_once():
    due = survey_schedule(conversion=purchase(_consenting()))
    later = survey_schedule(conversion=purchase(_consenting()))
    Survey.objects.filter(pk=due.pk).update(send_after=timezone.now() - timedelta(minutes=1))
    with mock.patch("reviews.tasks.email_survey.delay") as delay:
        assert surveys_enqueue_due() == 1
    delay.assert_called_once_with(due.pk)
    assert survey_send(survey_id=due.pk) is True
    assert survey_send(survey_id=due.pk) is False
    assert survey_send(survey_id=later.pk) is False, "not due yet"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert "recommend" in message.subject
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    links = re.findall(r"http://\S+/reviews/survey/\S+/(\d+)/", message.body)
    assert links == [str(n) for n in range(11)]
    html = message.alternatives[0][0]
    assert re.findall(r'href="http://\S+/reviews/survey/\S+/(\d+)/"', html) == links


def test_withdrawn_consent_cancels_the_survey_without_email():
    customer = _consenting()
    survey = survey_schedule(conversion=purchase(customer))
    customer.__class__.objects.filter(pk=customer.pk).update(marketing_consent=False)
    Survey.objects.filter(pk=survey.pk).update(send_after=timezone.now())
    assert survey_send(survey_id=survey.pk) is False
    assert Survey.objects.get(pk=survey.pk).status == Survey.Status.CANCELLED
    assert mail.outbox == []


def _answer(client, survey: Survey, score: int, **extra):
    """What a person does: open the score link, then press the one button."""
    path = _answer_path(survey, score)
    assert client.get(path).status_code == 200
    return client.post(path, {"score": score}, **extra)


def test_opening_a_score_link_stores_nothing_and_alerts_nobody(
    client, django_capture_on_commit_callbacks
):
    survey = _sent_survey()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.get(_answer_path(survey, 0))
    assert response.status_code == 200
    page = response.content.decode()
    assert re.search(r'<input type="radio" name="score" value="0"[^>]*checked', page)
    assert 'method="post"' in page and "Send my answer" in page
    survey.refresh_from_db()
    assert survey.status == Survey.Status.SENT and survey.score is None
    assert not FeedbackAlert.objects.exists() and callbacks == [] and mail.outbox == []


def test_a_scanner_opening_every_link_leaves_the_person_free_to_answer(client):
    survey = _sent_survey()
    for score in range(11):
        client.get(_answer_path(survey, score))
    response = _answer(client, survey, 9)
    assert response.status_code == 302
    survey.refresh_from_db()
    assert survey.score == 9 and not FeedbackAlert.objects.exists()


def test_confirming_stores_the_score_and_shows_the_comment_page(client):
    survey = _sent_survey()
    response = _answer(client, survey, 8, follow=True)
    assert response.status_code == 200
    survey.refresh_from_db()
    assert survey.status == Survey.Status.ANSWERED and survey.score == 8
    page = response.content.decode()
    assert "You gave us 8 out of 10" in page and 'name="comment"' in page
    assert "/r/" not in page, "passives are not asked to refer"
    assert not FeedbackAlert.objects.exists()


def test_the_person_may_change_the_preselected_score_before_confirming(client):
    survey = _sent_survey()
    client.post(_answer_path(survey, 2), {"score": 7})
    assert Survey.objects.get(pk=survey.pk).score == 7


def test_a_reused_link_is_refused_and_the_first_answer_stands(client):
    survey = _sent_survey()
    _answer(client, survey, 9)
    for response in (
        client.get(_answer_path(survey, 0)),
        client.post(_answer_path(survey, 0), {"score": 0}),
    ):
        assert response.status_code == 409
        assert "already answered" in response.content.decode()
    survey.refresh_from_db()
    assert survey.score == 9 and not FeedbackAlert.objects.exists()


@pytest.mark.parametrize(
    "mangle",
    [lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"), lambda t: "nonsense"],
    ids=["tampered-signature", "garbage"],
)
def test_a_forged_link_is_refused_and_nothing_is_stored(client, mangle):
    survey = _sent_survey()
    path = reverse("reviews:survey_answer", args=[mangle(survey_token(survey)), 10])
    for response in (client.get(path), client.post(path, {"score": 10})):
        assert response.status_code == 400
        assert "not valid" in response.content.decode()
    assert Survey.objects.get(pk=survey.pk).score is None


def test_an_expired_link_is_refused(client):
    survey = _sent_survey()
    weeks_ago = timezone.now().timestamp() - 15 * 24 * 3600
    with mock.patch("django.core.signing.time.time", return_value=weeks_ago):
        token = survey_token(survey)
    path = reverse("reviews:survey_answer", args=[token, 7])
    assert client.get(path).status_code == 410
    assert client.post(path, {"score": 7}).status_code == 410
    assert Survey.objects.get(pk=survey.pk).score is None


def test_a_score_outside_0_to_10_is_refused(client):
    survey = _sent_survey()
    assert client.get(_answer_path(survey, 11)).status_code == 400
    assert client.post(_answer_path(survey, 5), {"score": 11}).status_code == 400
    assert client.post(_answer_path(survey, 5), {}).status_code == 400
    assert Survey.objects.get(pk=survey.pk).score is None


def test_a_link_for_an_unsent_survey_is_refused(client):
    survey = survey_schedule(conversion=purchase(_consenting()))
    assert client.get(_answer_path(survey, 5)).status_code == 400
    assert client.post(_answer_path(survey, 5), {"score": 5}).status_code == 400
    assert Survey.objects.get(pk=survey.pk).score is None


def test_a_confirmed_detractor_score_raises_an_alert_at_once(client, django_user_model):
    django_user_model.objects.create_user(email="boss@example.com", is_staff=True)
    survey = _sent_survey()
    mail.outbox.clear()
    _answer(client, survey, 3)
    alert = FeedbackAlert.objects.get()
    assert alert.kind == FeedbackAlert.Kind.DETRACTOR and alert.survey == survey
    # Stored in the outbox with the alert, by the answer's transaction.
    assert alert.emailed_at is not None
    assert [m.to for m in mail.outbox] == [["boss@example.com"]]


def test_a_promoter_is_shown_their_referral_link(client, settings):
    customer = _consenting()
    survey = _sent_survey(customer)
    page = _answer(client, survey, 10, follow=True).content.decode()
    assert "Bring a friend" in page
    url = f"{settings.SITE_URL}/r/{customer.referral_code}/"
    assert url in page
    assert resolve(urlsplit(url).path).view_name == "referrals:landing"


def test_the_comment_is_taken_once_and_an_empty_one_is_refused(client):
    survey = _sent_survey()
    _answer(client, survey, 5)
    comment_path = reverse("reviews:survey_comment", args=[survey_token(survey)])
    empty = client.post(comment_path, {"comment": "   "})
    assert empty.status_code == 400
    assert client.post(comment_path, {"comment": "Slow <b>delivery</b>"}).status_code == 302
    again = client.post(comment_path, {"comment": "Changed my mind"})
    assert again.status_code == 409
    assert Survey.objects.get(pk=survey.pk).comment == "Slow <b>delivery</b>"
    page = client.get(comment_path).content.decode()
    assert "We have your comment" in page
