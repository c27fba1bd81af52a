import datetime as dt

import pytest
from django.utils import timezone

from customers.models import Customer
from partners import tasks
from partners.models import WebhookEvent
from reviews.models import Review, ReviewPhoto, Survey
from reviews.services import review_publish, review_reply_set
from tests.factories import CustomerFactory
from tests.reviews.factories import ReviewFactory, SubjectFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/reviews/"


@pytest.fixture
def beans():
    return SubjectFactory(name="House blend", slug="house-blend")


def test_feed_lists_published_reviews_newest_first(api, beans, admin_user):
    author = CustomerFactory(first_name="Anna", last_name="Kim")
    older = ReviewFactory(subject=beans, author=author, rating=5, title="Lovely")
    Review.objects.filter(pk=older.pk).update(created_at=timezone.now() - dt.timedelta(days=1))
    newer = ReviewFactory(subject=beans, rating=2, title="Too bitter")
    ReviewFactory(subject=beans, status=Review.Status.PENDING)
    ReviewFactory(subject=beans, status=Review.Status.REJECTED)
    ReviewPhoto.objects.create(review=older, image="reviews/cup.jpg", thumbnail="reviews/t.jpg")
    review_reply_set(review=older, author=admin_user, body="Thank you!")
    body = api.get(URL).json()
    assert body["count"] == 2
    assert [r["id"] for r in body["results"]] == [str(newer.public_id), str(older.public_id)]
    first = body["results"][1]
    assert first == {
        "id": str(older.public_id), "subject": "house-blend", "rating": 5, "title": "Lovely",
        "body": older.body, "author": "Anna K.", "verified_purchase": False,
        "photos": ["http://127.0.0.1:8000/media/reviews/cup.jpg"],
        "reply": {"body": "Thank you!", "author": first["reply"]["author"],
                  "created_at": first["reply"]["created_at"]},
        "helpful_count": 0, "created_at": first["created_at"],
    }  # fmt: skip
    assert body["results"][0]["reply"] is None


def test_feed_filters_by_subject_and_minimum_rating(api, beans):
    ReviewFactory(subject=beans, rating=5)
    ReviewFactory(subject=beans, rating=3)
    ReviewFactory(rating=5)
    assert api.get(URL, {"subject": "house-blend"}).json()["count"] == 2
    assert api.get(URL, {"subject": "house-blend", "min_rating": 4}).json()["count"] == 1
    assert api.get(URL, {"subject": "no-such-thing"}).json()["count"] == 0


@pytest.mark.parametrize("query", [{"min_rating": 0}, {"min_rating": 6}, {"min_rating": "x"}])
def test_bad_minimum_rating_is_a_field_error(api, query):
    response = api.get(URL, query)
    assert response.status_code == 400 and "min_rating" in response.json()


def test_summary_of_a_subject(api, beans):
    for rating in (5, 5, 4, 1):
        ReviewFactory(subject=beans, rating=rating)
    ReviewFactory(subject=beans, rating=1, status=Review.Status.PENDING)
    response = api.get(f"{URL}summary/", {"subject": "house-blend"})
    assert response.status_code == 200
    assert response.json() == {
        "subject": "house-blend",
        "count": 4,
        "average": 3.75,
        "distribution": {"1": 1, "2": 0, "3": 0, "4": 1, "5": 2},
    }


def test_summary_of_a_subject_without_reviews_and_bad_queries(api, beans):
    empty = api.get(f"{URL}summary/", {"subject": "house-blend"}).json()
    assert empty["count"] == 0 and empty["average"] is None
    missing = api.get(f"{URL}summary/", {"subject": "nothing-here"})
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    no_subject = api.get(f"{URL}summary/")
    assert no_subject.status_code == 400 and "subject" in no_subject.json()


def test_purchase_of_a_subject_plans_a_survey_and_verifies_the_review(api, beans):
    customer = api.post(
        "/api/v1/customers/", {"external_id": "s-1", "email": "sam@example.com"}
    ).json()
    Customer.objects.filter(public_id=customer["id"]).update(marketing_consent=True)
    response = api.post(
        "/api/v1/conversions/",
        {"customer": customer["id"], "order_id": "A-1", "amount": "12.00", "currency": "EUR",
         "subject": "house-blend"},
    )  # fmt: skip
    assert response.status_code == 201
    assert Survey.objects.filter(customer__public_id=customer["id"]).count() == 1
    bad = api.post(
        "/api/v1/conversions/",
        {"customer": customer["id"], "order_id": "A-2", "amount": "1.00", "currency": "EUR",
         "subject": "not a slug!"},
    )  # fmt: skip
    assert bad.status_code == 400 and "subject" in bad.json()


def test_publishing_a_review_tells_the_partners_of_its_author(api, other_api, beans, monkeypatch):
    monkeypatch.setattr(tasks.webhook_deliver, "delay", lambda pk: None)
    for client in (api, other_api):
        client.partner.webhook_url = "http://127.0.0.1:9/hooks"
        client.partner.save()
    author = api.post("/api/v1/customers/", {"external_id": "a", "email": "ava@example.com"}).json()
    review = ReviewFactory(
        subject=beans,
        author=Customer.objects.get(public_id=author["id"]),
        status=Review.Status.PENDING,
    )
    assert review_publish(review=review, by=None)
    event = WebhookEvent.objects.get(type="review.published")
    assert event.partner == api.partner
    assert event.data["review"] == str(review.public_id) and event.data["subject"] == "house-blend"
    assert event.data["customer"] == author["id"]
