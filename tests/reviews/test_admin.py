from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from reviews.models import FeedbackAlert, Review, ReviewReply, Survey
from reviews.signals import review_published
from tests.factories import CustomerFactory, purchase
from tests.reviews.factories import ReviewFactory
from tests.support import login_with_second_factor

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_superuser(
        email="boss@example.com", password="x", first_name="Sam", last_name="Rivera"
    )


@pytest.fixture
def staff_client(client, staff):
    login_with_second_factor(client, staff)
    return client


def _change(staff_client, review, **fields):
    data = {
        "decision": "",
        "rejection_reason": "",
        "photos-TOTAL_FORMS": "0",
        "photos-INITIAL_FORMS": "0",
        "photos-MIN_NUM_FORMS": "0",
        "photos-MAX_NUM_FORMS": "1000",
        "reply-TOTAL_FORMS": "1",
        "reply-INITIAL_FORMS": "0",
        "reply-MIN_NUM_FORMS": "0",
        "reply-MAX_NUM_FORMS": "1",
        "reply-0-body": "",
        **fields,
    }
    return staff_client.post(reverse("admin:reviews_review_change", args=[review.pk]), data)


def test_staff_publish_from_the_change_form_and_the_signal_goes_out(staff_client, staff):
    review = ReviewFactory(status=Review.Status.PENDING)
    received = []

    def receiver(sender, review, **kwargs):
        received.append(review.pk)

    review_published.connect(receiver)
    try:
        assert _change(staff_client, review, decision="publish").status_code == 302
    finally:
        review_published.disconnect(receiver)
    review.refresh_from_db()
    assert review.status == Review.Status.PUBLISHED and review.moderated_by == staff
    assert received == [review.pk]


def test_rejecting_without_a_reason_is_refused(staff_client):
    review = ReviewFactory(status=Review.Status.PENDING)
    response = _change(staff_client, review, decision="reject")
    assert response.status_code == 200 and "Tell the author why" in response.content.decode()
    review.refresh_from_db()
    assert review.status == Review.Status.PENDING
    _change(staff_client, review, decision="reject", rejection_reason="Off topic.")
    review.refresh_from_db()
    assert review.status == Review.Status.REJECTED and review.rejection_reason == "Off topic."


def test_staff_reply_from_the_review_page_is_signed_by_them(staff_client, staff):
    review = ReviewFactory(rating=1)
    FeedbackAlert.objects.create(
        kind=FeedbackAlert.Kind.LOW_RATING, customer=review.author, review=review
    )
    _change(staff_client, review, **{"reply-0-body": "We are sorry; a new bag is coming."})
    reply = ReviewReply.objects.get()
    assert reply.review == review and reply.author == staff
    assert FeedbackAlert.objects.get().status == FeedbackAlert.Status.ANSWERED


def test_staff_cannot_rewrite_a_customers_words(staff_client):
    review = ReviewFactory(title="Original")
    _change(staff_client, review, title="Rewritten", body="Rewritten")
    review.refresh_from_db()
    assert review.title == "Original"


def test_reviews_export_as_csv_without_spreadsheet_formulas(staff_client):
    ReviewFactory(title='=HYPERLINK("http://evil")', body="Fine, really.")
    ReviewFactory(title="Plain")
    response = staff_client.post(
        reverse("admin:reviews_review_changelist"),
        {
            "action": "export_csv",
            "_selected_action": list(Review.objects.values_list("pk", flat=True)),
        },
    )
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert sorted(row["title"] for row in rows) == ['\'=HYPERLINK("http://evil")', "Plain"]


def test_survey_answers_export_as_csv(staff_client):
    customer = CustomerFactory(marketing_consent=True)
    conversion = purchase(customer, order_id="A-77")
    Survey.objects.create(
        conversion=conversion,
        customer=customer,
        send_after=timezone.now(),
        status=Survey.Status.ANSWERED,
        score=9,
        comment="Lovely",
        answered_at=timezone.now(),
    )
    response = staff_client.post(
        reverse("admin:reviews_survey_changelist"),
        {
            "action": "export_csv",
            "_selected_action": list(Survey.objects.values_list("pk", flat=True)),
        },
    )
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["order_id"], r["score"], r["comment"]) for r in rows] == [("A-77", "9", "Lovely")]


def test_the_feedback_queue_marks_alerts_answered(staff_client, staff):
    review = ReviewFactory(rating=2)
    alert = FeedbackAlert.objects.create(
        kind=FeedbackAlert.Kind.LOW_RATING, customer=review.author, review=review
    )
    queue = staff_client.get(
        reverse("admin:reviews_feedbackalert_changelist"), {"status__exact": "open"}
    )
    assert review.author.user.email in queue.content.decode()
    staff_client.post(
        reverse("admin:reviews_feedbackalert_change", args=[alert.pk]),
        {"note": "Called her; new bag sent.", "mark_answered": "on"},
    )
    alert.refresh_from_db()
    assert alert.status == FeedbackAlert.Status.ANSWERED and alert.answered_by == staff
    assert alert.note == "Called her; new bag sent."


def test_the_report_shows_nps_per_week_and_rating_trends(staff_client):
    now = timezone.now()
    for score in (10, 9, 8, 3):
        customer = CustomerFactory()
        Survey.objects.create(
            conversion=purchase(customer),
            customer=customer,
            send_after=now,
            status=Survey.Status.ANSWERED,
            score=score,
            answered_at=now,
        )
    ReviewFactory(rating=4, subject__name="House Blend")
    response = staff_client.get(reverse("admin:reviews_report"))
    assert response.status_code == 200
    nps = response.context["nps"]
    assert [
        (r["answers"], r["promoters"], r["passives"], r["detractors"], r["nps"]) for r in nps
    ] == [(4, 2, 1, 1, 25)]
    page = response.content.decode()
    assert "<svg" in page and "House Blend" in page


def test_customers_cannot_open_the_report(client):
    client.force_login(CustomerFactory().user)
    response = client.get(reverse("admin:reviews_report"))
    assert response.status_code == 302 and "/admin/login/" in response.url


def test_publishing_from_the_change_form_needs_the_moderation_permission(client, staff):

    editor = type(staff).objects.create_user(email="editor@example.com", is_staff=True)
    editor.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="reviews", codename__in=["view_review", "change_review"]
        )
    )
    review = ReviewFactory(status=Review.Status.PENDING)
    login_with_second_factor(client, editor)
    page = client.get(reverse("admin:reviews_review_change", args=[review.pk]))
    assert page.status_code == 200 and b'name="decision"' not in page.content

    _change(client, review, decision="publish")

    review.refresh_from_db()
    assert review.status == Review.Status.PENDING
    login_with_second_factor(client, staff)
    _change(client, review, decision="publish")
    review.refresh_from_db()
    assert review.status == Review.Status.PUBLISHED
