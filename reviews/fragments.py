"""Cached fragments of the published reviews (the home page's latest, the subjects' ratings),
dropped whenever a review is published, rejected or answered."""

from __future__ import annotations

from django.dispatch import receiver

from core.fragments import fragment_version, fragment_version_drop
from reviews.signals import review_published, review_rejected, review_replied

PUBLISHED = "reviews:published"
# Changes that send no signal (an edit taken back to moderation, a helpful vote, a subject
# renamed by staff) show within this many seconds.
PUBLISHED_FRAGMENT_SECONDS = 60


def published_version() -> str:
    """The version of the published reviews that pages key their fragments on."""
    return fragment_version(PUBLISHED)


@receiver(
    [review_published, review_rejected, review_replied], dispatch_uid="reviews.fragments.drop"
)
def _published_changed(sender, **kwargs) -> None:
    fragment_version_drop(PUBLISHED)
