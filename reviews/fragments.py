"""Cached fragments of the published reviews (the home page's latest, the subjects' ratings),
dropped whenever a review is published, rejected or answered."""

from __future__ import annotations

from django.dispatch import receiver
from django.http import HttpRequest

from core.fragments import fragment_version, fragment_version_drop
from reviews.signals import review_published, review_rejected, review_replied

PUBLISHED = "reviews:published"
# Changes that send no signal (an edit taken back to moderation, a helpful vote, a subject
# renamed by staff) show within this many seconds.
PUBLISHED_FRAGMENT_SECONDS = 60


def published_version() -> str:
    """The version of the published reviews that pages key their fragments on."""
    return fragment_version(PUBLISHED)


def published_version_of(request: HttpRequest) -> str:
    """`published_version`, read once per request: a page's ETag and its fragments both key
    on it."""
    if not hasattr(request, "published_version"):
        request.published_version = published_version()
    return request.published_version


@receiver(
    [review_published, review_rejected, review_replied], dispatch_uid="reviews.fragments.drop"
)
def _published_changed(sender, **kwargs) -> None:
    fragment_version_drop(PUBLISHED)
