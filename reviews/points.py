"""Reviewing points: asked of the ledger once a review is published, whatever its rating."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from loyalty.earning import review_bonus_award
from reviews.fragments import reviews_by_changed
from reviews.models import (
    Review,
)


def review_bonus_grant(*, review_id: int) -> bool:
    """Ask the ledger for reviewing points, whatever the rating (we reward honesty, not praise).

    Loyalty's earn rule decides the amount and who qualifies; its idempotency
    per `review_ref` makes a second run, or a re-publication after an edit,
    award nothing more. A review that received points says so on every page.
    """
    review = Review.objects.select_related("author").get(pk=review_id)
    if review.status != Review.Status.PUBLISHED:
        return False
    if review_bonus_award(customer=review.author, review_ref=str(review.public_id)) is None:
        return False
    if Review.objects.filter(pk=review.pk, incentivised=False).update(incentivised=True):
        reviews_by_changed(review.author_id)
    return True


def review_bonuses_sweep(*, now: datetime | None = None) -> int:
    """Grant the bonus of reviews published in the last two days whose task never ran (the
    broker was down at publication); granting is idempotent, so a repeat costs nothing."""
    now = now or timezone.now()
    missed = Review.objects.filter(
        status=Review.Status.PUBLISHED,
        incentivised=False,
        published_at__gte=now - timedelta(days=2),
        published_at__lt=now - timedelta(seconds=30),
    ).values_list("pk", flat=True)
    return sum(review_bonus_grant(review_id=review_id) for review_id in missed)
