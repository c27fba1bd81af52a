"""Moderation and the business's reply tell the review's author."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from reviews.models import Review, ReviewPolicy
from reviews.services import review_create, review_publish, review_reject, review_reply_set
from tests.factories import CustomerFactory
from tests.reviews.factories import ReviewFactory, SubjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return get_user_model().objects.create_user(email="sam@example.com", is_staff=True)


def _on_its_page(review: Review) -> str:
    return reverse("reviews:subject", args=[review.subject.slug]) + f"#review-{review.public_id}"


def test_a_staff_reply_tells_the_author_once_even_when_reworded(staff):
    review = ReviewFactory(subject=SubjectFactory(name="House espresso"))
    review_reply_set(review=review, author=staff, body="Thank you!")
    review_reply_set(review=review, author=staff, body="Thank you, Anna!")
    notice = review.author.notices.get()
    assert notice.kind == "review_replied" and notice.url == _on_its_page(review)
    assert notice.text == "We replied to your review of House espresso."


def test_publishing_by_a_moderator_tells_the_author(staff):
    review = ReviewFactory(status=Review.Status.PENDING, subject=SubjectFactory(name="Cake"))
    assert review_publish(review=review, by=staff)
    assert not review_publish(review=review, by=staff)
    notice = review.author.notices.get()
    assert notice.kind == "review_published" and notice.url == _on_its_page(review)
    assert notice.text == "Your review of Cake is published."


def test_an_auto_published_review_needs_no_notice():
    ReviewPolicy.objects.filter(pk=ReviewPolicy.current().pk).update(auto_publish_high_ratings=True)
    author = CustomerFactory()
    review = review_create(
        author=author, subject=SubjectFactory(), rating=5, title="Lovely", body="Really good."
    )
    assert review.status == Review.Status.PUBLISHED
    assert not author.notices.exists()


def test_a_rejection_tells_the_author_where_to_read_why(staff):
    review = ReviewFactory(status=Review.Status.PENDING, subject=SubjectFactory(name="Cake"))
    assert review_reject(review=review, by=staff, reason="Names a member of staff")
    assert not review_reject(review=review, by=staff, reason="Again")
    notice = review.author.notices.get()
    assert notice.kind == "review_rejected" and notice.url == reverse("reviews:mine")
    assert notice.text == "Your review of Cake was not published. See why and edit it."
