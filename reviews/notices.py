"""The reviews app's notices (see customers.notices): a review published or rejected by a
moderator, and the business's reply to it."""

from __future__ import annotations

from django.dispatch import receiver
from django.urls import reverse
from django.utils.translation import gettext as _

from customers.models import Notice
from customers.notices import notice_create, notice_kind
from reviews.models import Review, ReviewReply
from reviews.signals import review_published, review_rejected, review_replied


@notice_kind("review_published")
def _published_text(notice: Notice) -> str:
    return _("Your review of %(subject)s is published.") % {"subject": notice.params["subject"]}


@notice_kind("review_rejected")
def _rejected_text(notice: Notice) -> str:
    return _("Your review of %(subject)s was not published. See why and edit it.") % {
        "subject": notice.params["subject"]
    }


@notice_kind("review_replied")
def _replied_text(notice: Notice) -> str:
    return _("We replied to your review of %(subject)s.") % {"subject": notice.params["subject"]}


def _on_its_page(review: Review) -> str:
    return reverse("reviews:subject", args=[review.subject.slug]) + f"#review-{review.public_id}"


@receiver(review_published, dispatch_uid="reviews.notice_published")
def _published(sender, *, review: Review, **kwargs) -> None:
    # An auto-published review went live while its author watched: nothing to tell them.
    if review.moderated_by is None:
        return
    notice_create(
        customer=review.author,
        kind="review_published",
        params={"subject": review.subject.name},
        url=_on_its_page(review),
        source_key=f"published:{review.public_id}:{review.published_at.isoformat()}",
    )


@receiver(review_rejected, dispatch_uid="reviews.notice_rejected")
def _rejected(sender, *, review: Review, **kwargs) -> None:
    notice_create(
        customer=review.author,
        kind="review_rejected",
        params={"subject": review.subject.name},
        url=reverse("reviews:mine"),
        source_key=f"rejected:{review.public_id}:{review.moderated_at.isoformat()}",
    )


@receiver(review_replied, dispatch_uid="reviews.notice_replied")
def _replied(sender, *, review: Review, reply: ReviewReply, created: bool, **kwargs) -> None:
    """Once per review: rewording the reply later is not news for the author."""
    notice_create(
        customer=review.author,
        kind="review_replied",
        params={"subject": review.subject.name},
        url=_on_its_page(review),
        source_key=f"replied:{review.public_id}",
    )
