"""The review pages' cached fragments are built afresh when a review is published,
rejected or answered, and a customer's own reviews whenever one of theirs changes (never
shown to another customer)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from reviews.models import Review
from reviews.points import review_bonus_grant
from reviews.services import (
    review_create,
    review_publish,
    review_reject,
    review_reply_set,
    review_update,
)
from tests.factories import CustomerFactory
from tests.reviews.factories import ReviewFactory, SubjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return get_user_model().objects.create_user(email="sam@example.com", is_staff=True)


def _subjects(client) -> str:
    return client.get(reverse("reviews:subject_list")).content.decode()


def test_subject_ratings_follow_a_review_published_or_rejected_at_once(
    client, staff, django_capture_on_commit_callbacks
):
    subject = SubjectFactory(name="House espresso")
    waiting = ReviewFactory(subject=subject, rating=4, status=Review.Status.PENDING)
    assert "Be the first" in _subjects(client)
    with django_capture_on_commit_callbacks(execute=True):
        review_publish(review=waiting, by=None)
    assert "4.0 out of 5 from 1 review" in _subjects(client)
    another = ReviewFactory(subject=subject, rating=2, status=Review.Status.PENDING)
    with django_capture_on_commit_callbacks(execute=True):
        review_publish(review=another, by=None)
    assert "3.0 out of 5 from 2 reviews" in _subjects(client)
    with django_capture_on_commit_callbacks(execute=True):
        review_reject(review=another, by=staff, reason="Off topic")
    assert "4.0 out of 5 from 1 review" in _subjects(client)


def test_home_shows_the_business_reply_at_once(client, staff, django_capture_on_commit_callbacks):
    review = ReviewFactory(title="Lovely beans")
    assert "Lovely beans" in client.get(reverse("home")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        review_reply_set(review=review, author=staff, body="Thank you, Anna!")
    assert "Thank you, Anna!" in client.get(reverse("home")).content.decode()


@pytest.fixture
def anna(client):
    customer = CustomerFactory(email="anna@example.com", first_name="Anna")
    client.force_login(customer.user)
    return customer


def _mine(client) -> str:
    return client.get(reverse("reviews:mine")).content.decode()


def test_my_reviews_show_each_change_to_one_of_them_at_once(
    client, anna, staff, django_capture_on_commit_callbacks
):
    def committed(change, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return change(**kwargs)

    assert "You haven't written a review yet." in _mine(client)
    review = committed(
        review_create,
        author=anna,
        subject=SubjectFactory(name="House espresso"),
        rating=3,
        title="Decent cup",
        body="Fine coffee, slow service.",
    )
    page = _mine(client)
    assert "Decent cup" in page and "Waiting for moderation" in page
    committed(review_publish, review=review, by=staff)
    assert "<strong>Published</strong>" in _mine(client)
    committed(review_bonus_grant, review_id=review.pk)
    assert "Received points for reviewing" in _mine(client)
    committed(review_reply_set, review=review, author=staff, body="We hired a second barista.")
    assert "We hired a second barista." in _mine(client)
    committed(review_update, review=review, rating=2, title="Slower now", body="Even slower today.")
    page = _mine(client)
    assert "Slower now" in page and "Decent cup" not in page
    committed(review_reject, review=review, by=staff, reason="Please leave names out.")
    assert "Rejected</strong>: Please leave names out." in _mine(client)
    committed(review.delete)  # staff delete it in the admin
    assert "You haven't written a review yet." in _mine(client)


def test_two_customers_never_see_each_others_reviews(client, anna):
    ReviewFactory(author=anna, title="Anna's verdict")
    ben = CustomerFactory(email="ben@example.com")
    ReviewFactory(author=ben, title="Ben's verdict")
    bens_client = Client()
    bens_client.force_login(ben.user)
    for _ in range(2):  # built, then from the cache
        annas, bens = _mine(client), _mine(bens_client)
        assert "Anna&#x27;s verdict" in annas and "Ben&#x27;s verdict" not in annas
        assert "Ben&#x27;s verdict" in bens and "Anna&#x27;s verdict" not in bens
