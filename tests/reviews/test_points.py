from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from loyalty.models import EarnRule, Transaction
from loyalty.selectors import balance
from reviews.models import Review
from reviews.points import review_bonus_grant, review_bonuses_sweep
from reviews.services import review_create, review_publish, review_reject
from reviews.tasks import ledger_review_bonus
from tests.factories import CustomerFactory
from tests.reviews.factories import SubjectFactory

pytestmark = pytest.mark.django_db


def _published(rating: int = 1, author=None) -> Review:
    review = review_create(
        author=author or CustomerFactory(),
        subject=SubjectFactory(),
        rating=rating,
        title="Honest",
        body="Not for me.",
    )
    review_publish(review=review, by=None)
    return review


def test_a_published_review_earns_points_once_even_when_the_task_runs_twice(client):
    review = _published(rating=1)
    assert ledger_review_bonus(review.pk) is True
    ledger_review_bonus(review.pk)
    bonus = Transaction.objects.filter(kind=Transaction.Kind.REVIEW_BONUS)
    assert bonus.count() == 1
    assert balance(customer=review.author).settled == 50
    review.refresh_from_db()
    assert review.incentivised
    page = client.get(reverse("reviews:subject", args=[review.subject.slug])).content.decode()
    assert "Received points for reviewing" in page


def test_a_pending_or_rejected_review_earns_nothing():
    review = review_create(
        author=CustomerFactory(), subject=SubjectFactory(), rating=5, title="Hi", body="Hello."
    )
    assert review_bonus_grant(review_id=review.pk) is False
    review_reject(review=review, by=CustomerFactory().user, reason="Spam")
    assert review_bonus_grant(review_id=review.pk) is False
    assert not Transaction.objects.exists()
    review.refresh_from_db()
    assert not review.incentivised


def test_each_subject_reviewed_earns_once_and_a_review_without_points_has_no_label():
    author = CustomerFactory()
    first, second = _published(author=author), _published(author=author)
    assert review_bonus_grant(review_id=first.pk) and review_bonus_grant(review_id=second.pk)
    assert Transaction.objects.filter(kind=Transaction.Kind.REVIEW_BONUS).count() == 2
    EarnRule.objects.update(first_review_bonus=0)
    third = _published(author=author)
    assert review_bonus_grant(review_id=third.pk) is False
    third.refresh_from_db()
    assert not third.incentivised


def test_republishing_after_an_edit_awards_nothing_more():
    review = _published()
    review_bonus_grant(review_id=review.pk)
    Review.objects.filter(pk=review.pk).update(status=Review.Status.PENDING)
    review_publish(review=review, by=None)
    review_bonus_grant(review_id=review.pk)
    assert Transaction.objects.filter(kind=Transaction.Kind.REVIEW_BONUS).count() == 1


def test_a_bonus_whose_task_was_lost_is_granted_by_the_sweep():

    review = _published()
    Review.objects.filter(pk=review.pk).update(published_at=timezone.now() - timedelta(hours=1))
    assert review_bonuses_sweep() == 1
    assert review_bonuses_sweep() == 0
    review.refresh_from_db()
    assert review.incentivised
    assert Transaction.objects.filter(kind=Transaction.Kind.REVIEW_BONUS).count() == 1
