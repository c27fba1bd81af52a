"""Cached fragments of reviews: the published ones (the home page's latest, the subjects'
ratings), dropped whenever a review is published, rejected or answered; and each customer's
own (their reviews page, the dashboard's suggestion), dropped whenever one of theirs changes."""

from __future__ import annotations

from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.http import HttpRequest

from core.fragments import fragment_version_drop, fragment_versions
from customers.models import Customer
from reviews.models import Review
from reviews.signals import review_published, review_rejected, review_replied

PUBLISHED = "reviews:published"
# Changes that send no signal (an edit taken back to moderation, a helpful vote, a subject
# renamed by staff) show within this many seconds.
PUBLISHED_FRAGMENT_SECONDS = 60
# A customer's own reviews show what staff change elsewhere (a subject's name, the replying
# contact person's card, the customer's name) within this many seconds.
REVIEWS_BY_FRAGMENT_SECONDS = 300


def reviews_by_name(customer_id: int) -> str:
    """The name of the version of the customer's own reviews (see `invitations_name`)."""
    return f"reviews-by:{customer_id}"


def published_version() -> str:
    """The version of the published reviews that pages key their fragments on."""
    return fragment_versions(PUBLISHED)


def published_version_of(request: HttpRequest) -> str:
    """`published_version`, read once per request: a page's ETag and its fragments both key
    on it."""
    if not hasattr(request, "published_version"):
        request.published_version = published_version()
    return request.published_version


def reviews_by_version(*, customer: Customer) -> str:
    """The version of the customer's own reviews (in every state) that pages key their
    fragments on."""
    return fragment_versions(reviews_by_name(customer.pk))


def reviews_by_changed(*customer_ids: int) -> None:
    """A review by these customers was written, edited, moderated, answered or deleted: once
    the change commits, their fragments are built afresh."""
    fragment_version_drop(*map(reviews_by_name, customer_ids))


@receiver(
    [review_published, review_rejected, review_replied], dispatch_uid="reviews.fragments.drop"
)
def _published_changed(sender, *, review: Review, **kwargs) -> None:
    fragment_version_drop(PUBLISHED, reviews_by_name(review.author_id))


@receiver(post_delete, sender=Review, dispatch_uid="reviews.fragments.deleted")
def _review_deleted(sender, *, instance: Review, **kwargs) -> None:
    # Staff delete reviews in the admin; an erasure deletes the customer's.
    reviews_by_changed(instance.author_id)
