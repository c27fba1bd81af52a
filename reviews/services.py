"""Writes about reviews: submission, moderation, replies and helpful votes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.db import enqueue_after_commit
from core.images import ProcessedImage
from customers.models import Conversion, Customer, User
from reviews.alerts import alert_raise
from reviews.fragments import reviews_by_changed
from reviews.models import (
    FeedbackAlert,
    HelpfulVote,
    Review,
    ReviewPhoto,
    ReviewPolicy,
    ReviewReply,
    Subject,
)
from reviews.moderation import moderated_publish, moderated_reject
from reviews.signals import review_published, review_rejected, review_replied


class ReviewError(Exception):
    """A request about a review that cannot be honoured; the message is for the person asking."""

    def __init__(self, message: str, *, code: str = "invalid"):
        super().__init__(message)
        self.code = code


def _validate(*, rating, title: str, body: str, photo_count: int) -> None:
    errors = {}
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        errors["rating"] = _("Choose a rating from 1 to 5 stars.")
    if not title.strip():
        errors["title"] = _("Give your review a title.")
    if not body.strip():
        errors["body"] = _("Tell us what you thought: the text can't be empty.")
    if photo_count > Review.MAX_PHOTOS:
        errors["photos"] = _("A review can have at most %(max)d photos.") % {
            "max": Review.MAX_PHOTOS
        }
    if errors:
        raise ValidationError(errors)


def is_verified_purchase(*, customer: Customer, subject: Subject) -> bool:
    """A purchase that names this subject, or one whose partner named no subject at all.

    A purchase that names only *other* subjects does not verify this one; a
    fully refunded purchase verifies nothing.
    """
    return (
        Conversion.objects.filter(customer=customer)
        .exclude(status=Conversion.Status.REFUNDED)
        .filter(Q(subject_slug=subject.slug) | Q(subject_slug=""))
        .exists()
    )


def _photos_add(review: Review, photos: Iterable[ProcessedImage]) -> None:
    for photo in photos:
        stored = ReviewPhoto(review=review)
        stored.image.save(photo.image.name, photo.image, save=False)
        stored.thumbnail.save(photo.thumbnail.name, photo.thumbnail, save=False)
        stored.save()


def _photos_delete(photos: Iterable[ReviewPhoto]) -> None:
    for photo in photos:
        names = [photo.image.name, photo.thumbnail.name]
        photo.delete()
        # Files go only once the row is gone for good.
        transaction.on_commit(
            lambda names=names, storage=photo.image.storage: [storage.delete(n) for n in names]
        )


def _moderate_on_submit(review: Review) -> None:
    """A new or edited review is checked again: flagged words, then the auto-publish rule."""
    policy = ReviewPolicy.current()
    review.flagged_words = ", ".join(policy.banned_words_in(f"{review.title}\n{review.body}"))[:255]
    review.status = Review.Status.PENDING
    review.rejection_reason = ""
    review.moderated_by = None
    review.moderated_at = None
    review.save()
    reviews_by_changed(review.author_id)
    if review.rating <= 2:
        alert_raise(kind=FeedbackAlert.Kind.LOW_RATING, customer=review.author, review=review)
    if policy.auto_publish_high_ratings and review.rating >= 4 and not review.is_flagged:
        review_publish(review=review, by=None)


def review_create(
    *,
    author: Customer,
    subject: Subject,
    rating: int,
    title: str,
    body: str,
    photos: Sequence[ProcessedImage] = (),
) -> Review:
    """Write a customer's one review of a subject; it waits for moderation unless auto-published.

    Raises `ValidationError` (by field) for bad input and `ReviewError` for a
    second review of the same subject or a subject closed for reviews.
    """
    _validate(rating=rating, title=title, body=body, photo_count=len(photos))
    if not subject.is_active:
        raise ReviewError(_("This subject no longer takes reviews."), code="subject_closed")
    try:
        with transaction.atomic():
            review = Review.objects.create(
                author=author,
                subject=subject,
                rating=rating,
                title=title.strip(),
                body=body.strip(),
                verified_purchase=is_verified_purchase(customer=author, subject=subject),
            )
            _photos_add(review, photos)
            _moderate_on_submit(review)
    except IntegrityError:
        if Review.objects.filter(author=author, subject=subject).exists():
            raise ReviewError(
                _("You have already reviewed this. You can edit your review instead."),
                code="already_reviewed",
            ) from None
        raise
    return review


def review_update(
    *,
    review: Review,
    rating: int,
    title: str,
    body: str,
    add_photos: Sequence[ProcessedImage] = (),
    remove_photo_ids: Iterable[int] = (),
) -> Review:
    """The author edits their review; the edit goes back through moderation."""
    with transaction.atomic():
        review = (
            Review.objects.select_for_update().select_related("author", "subject").get(pk=review.pk)
        )
        removed = list(review.photos.filter(pk__in=list(remove_photo_ids)))
        kept = review.photos.count() - len(removed)
        _validate(rating=rating, title=title, body=body, photo_count=kept + len(add_photos))
        review.rating, review.title, review.body = rating, title.strip(), body.strip()
        review.verified_purchase = is_verified_purchase(
            customer=review.author, subject=review.subject
        )
        _photos_delete(removed)
        _photos_add(review, add_photos)
        _moderate_on_submit(review)
    return review


def review_publish(*, review: Review, by: User | None) -> bool:
    """Make a review public (compare-and-swap); returns False if it already was.

    Sends `review_published` and, after commit, asks the ledger for the
    reviewing points (once per review, whatever the rating).
    """
    with transaction.atomic():
        if not moderated_publish(review, by=by, now=timezone.now()):
            return False
        review_published.send(sender=Review, review=review)
        enqueue_after_commit("reviews.tasks.ledger_review_bonus", review.pk)
    return True


def review_reject(*, review: Review, by: User, reason: str) -> bool:
    """Refuse a review with a reason the author reads; returns False if it already was."""
    with transaction.atomic():
        changed = moderated_reject(review, by=by, reason=reason)
        if changed:
            review_rejected.send(sender=Review, review=review)
    return changed


def review_reply_set(*, review: Review, author: User, body: str) -> ReviewReply:
    """Write or rewrite the business's one public reply; it answers the review's alert too."""
    if not author.is_staff:
        raise ReviewError(_("Only staff reply on behalf of the business."), code="not_staff")
    if not body.strip():
        raise ValidationError({"body": _("The reply can't be empty.")})
    with transaction.atomic():
        reply, created = ReviewReply.objects.update_or_create(
            review=review, defaults={"author": author, "body": body.strip()}
        )
        FeedbackAlert.objects.filter(review=review, status=FeedbackAlert.Status.OPEN).update(
            status=FeedbackAlert.Status.ANSWERED,
            answered_by=author,
            answered_at=timezone.now(),
            note=_("Answered with a public reply."),
        )
        review_replied.send(sender=Review, review=review, reply=reply, created=created)
    return reply


def helpful_vote_add(*, review: Review, customer: Customer) -> int:
    """One 'helpful' per customer and published review, never on one's own; returns the count."""
    if review.author_id == customer.pk:
        raise ReviewError(_("You can't vote on your own review."), code="own_review")
    if review.status != Review.Status.PUBLISHED:
        raise ReviewError(_("This review is not published."), code="not_published")
    try:
        with transaction.atomic():
            HelpfulVote.objects.create(review=review, customer=customer)
            Review.objects.filter(pk=review.pk).update(helpful_count=F("helpful_count") + 1)
    except IntegrityError:
        raise ReviewError(
            _("You have already found this review helpful."), code="already_voted"
        ) from None
    return Review.objects.values_list("helpful_count", flat=True).get(pk=review.pk)
