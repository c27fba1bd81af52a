"""The review pages' cached fragments are built afresh when a review is published,
rejected or answered."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from reviews.models import Review
from reviews.services import review_publish, review_reject, review_reply_set
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
