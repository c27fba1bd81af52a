"""Every write of the reviews app: reviews, moderation, replies, votes, surveys and alerts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.emails import email_send
from customers.images import ProcessedImage
from customers.models import ConsentRecord, Conversion, Customer, User
from customers.privacy import customer_email_send
from loyalty.earning import review_bonus_award
from reviews.models import (
    FeedbackAlert,
    HelpfulVote,
    Review,
    ReviewPhoto,
    ReviewPolicy,
    ReviewReply,
    Subject,
    Survey,
)
from reviews.signals import review_published

SURVEY_SALT = "reviews.survey"


class ReviewError(Exception):
    """A request about a review that cannot be honoured; the message is for the person asking."""

    def __init__(self, message: str, *, code: str = "invalid"):
        super().__init__(message)
        self.code = code


# Reviews ---------------------------------------------------------------------


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


def _is_verified_purchase(*, customer: Customer, subject: Subject) -> bool:
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
    if review.rating <= 2:
        _alert_raise(kind=FeedbackAlert.Kind.LOW_RATING, customer=review.author, review=review)
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
                verified_purchase=_is_verified_purchase(customer=author, subject=subject),
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
        review.verified_purchase = _is_verified_purchase(
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
    now = timezone.now()
    with transaction.atomic():
        changed = (
            Review.objects.filter(pk=review.pk)
            .exclude(status=Review.Status.PUBLISHED)
            .update(
                status=Review.Status.PUBLISHED,
                rejection_reason="",
                moderated_by=by,
                moderated_at=now,
                published_at=now,
            )
        )
        if not changed:
            return False
        review.status, review.rejection_reason = Review.Status.PUBLISHED, ""
        review.moderated_by, review.moderated_at, review.published_at = by, now, now
        review_published.send(sender=Review, review=review)
        transaction.on_commit(lambda: _bonus_enqueue(review.pk), robust=True)
    return True


def _bonus_enqueue(review_id: int) -> None:
    from reviews.tasks import ledger_review_bonus

    ledger_review_bonus.delay(review_id)


def review_bonuses_sweep(*, now: datetime | None = None) -> int:
    """Grant the bonus of reviews published in the last two days whose task never ran (the
    broker was down at publication); granting is idempotent, so a repeat costs nothing."""
    now = now or timezone.now()
    missed = Review.objects.filter(
        status=Review.Status.PUBLISHED,
        incentivised=False,
        published_at__gte=now - timedelta(days=2),
        published_at__lt=now - timedelta(minutes=5),
    ).values_list("pk", flat=True)
    return sum(review_bonus_grant(review_id=review_id) for review_id in missed)


def review_reject(*, review: Review, by: User, reason: str) -> bool:
    """Refuse a review with a reason the author reads; returns False if it already was."""
    if not reason.strip():
        raise ValidationError({"rejection_reason": _("Tell the author why.")})
    changed = (
        Review.objects.filter(pk=review.pk)
        .exclude(status=Review.Status.REJECTED)
        .update(
            status=Review.Status.REJECTED,
            rejection_reason=reason.strip(),
            moderated_by=by,
            moderated_at=timezone.now(),
            published_at=None,
        )
    )
    if changed:
        review.refresh_from_db()
    return bool(changed)


def review_reply_set(*, review: Review, author: User, body: str) -> ReviewReply:
    """Write or rewrite the business's one public reply; it answers the review's alert too."""
    if not author.is_staff:
        raise ReviewError(_("Only staff reply on behalf of the business."), code="not_staff")
    if not body.strip():
        raise ValidationError({"body": _("The reply can't be empty.")})
    with transaction.atomic():
        reply, _created = ReviewReply.objects.update_or_create(
            review=review, defaults={"author": author, "body": body.strip()}
        )
        FeedbackAlert.objects.filter(review=review, status=FeedbackAlert.Status.OPEN).update(
            status=FeedbackAlert.Status.ANSWERED,
            answered_by=author,
            answered_at=timezone.now(),
            note=_("Answered with a public reply."),
        )
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


# Feedback alerts -------------------------------------------------------------


def _alert_raise(
    *,
    kind: str,
    customer: Customer,
    review: Review | None = None,
    survey: Survey | None = None,
) -> FeedbackAlert | None:
    """Queue one alert per review or survey and email it after commit; None if it exists."""
    try:
        with transaction.atomic():
            alert = FeedbackAlert.objects.create(
                kind=kind, customer=customer, review=review, survey=survey
            )
    except IntegrityError:
        return None
    from reviews.tasks import email_feedback_alert

    transaction.on_commit(lambda: email_feedback_alert.delay(alert.pk), robust=True)
    return alert


def _alert_recipients(alert: FeedbackAlert) -> list[str]:
    contact = alert.customer.contact_person
    addresses = []
    if contact is not None and contact.is_active:
        addresses.append(contact.email or (contact.user.email if contact.user else ""))
    listed = [line.strip() for line in ReviewPolicy.current().alert_recipients.splitlines()]
    if any(listed):
        addresses += listed
    else:
        addresses += User.objects.filter(is_staff=True, is_active=True).values_list(
            "email", flat=True
        )
    return list(dict.fromkeys(address for address in addresses if address))


def feedback_alert_send(*, alert_id: int) -> bool:
    """Email the alert to the contact person and staff once; returns whether it went now."""
    now = timezone.now()
    if not FeedbackAlert.objects.filter(pk=alert_id, emailed_at=None).update(emailed_at=now):
        return False
    alert = FeedbackAlert.objects.select_related(
        "customer__user", "customer__contact_person__user", "review__subject", "survey"
    ).get(pk=alert_id)
    context = {
        "alert": alert,
        "customer": alert.customer,
        "admin_url": reverse("admin:reviews_feedbackalert_change", args=[alert.pk]),
    }
    try:
        for address in _alert_recipients(alert):
            email_send(to=address, template="reviews/feedback_alert", context=context)
    except Exception:
        # Not sent: let the retry claim it again.
        FeedbackAlert.objects.filter(pk=alert_id, emailed_at=now).update(emailed_at=None)
        raise
    return True


def feedback_alert_answer(*, alert: FeedbackAlert, by: User, note: str = "") -> bool:
    """Take an alert off the open queue; returns False if someone answered it already."""
    changed = FeedbackAlert.objects.filter(pk=alert.pk, status=FeedbackAlert.Status.OPEN).update(
        status=FeedbackAlert.Status.ANSWERED,
        answered_by=by,
        answered_at=timezone.now(),
        note=note or alert.note,
    )
    return bool(changed)


# NPS surveys -----------------------------------------------------------------


class SurveyLinkError(Exception):
    """A survey link that is forged, expired or already used; the message is for the customer."""

    def __init__(self, message: str, *, code: str, status: int):
        super().__init__(message)
        self.code = code
        self.status = status


def survey_schedule(*, conversion: Conversion) -> Survey | None:
    """Plan the NPS email for a purchase; idempotent per conversion.

    No survey (None) when the customer has not agreed to marketing emails
    (their topic is "news, offers and surveys"), their account is inactive or
    erased, the purchase is refunded or too old to ask about, or they were
    asked within the policy's cooldown.
    """
    # The customer as the caller read them (sending checks the consent again); what needs
    # no query is checked first, since most purchases end here.
    customer = conversion.customer
    if (
        not customer.marketing_consent
        or customer.erased_at
        or conversion.status == Conversion.Status.REFUNDED
    ):
        return None
    existing = Survey.objects.filter(conversion=conversion).first()
    if existing is not None:
        return existing
    policy = ReviewPolicy.current()
    now = timezone.now()
    if (
        conversion.occurred_at < now - timedelta(days=policy.survey_link_days)
        or not customer.user.is_active
        or Survey.objects.filter(
            customer=customer, created_at__gte=now - timedelta(days=policy.survey_cooldown_days)
        )
        .exclude(status=Survey.Status.CANCELLED)
        .exists()
    ):
        return None
    try:
        with transaction.atomic():
            return Survey.objects.create(
                conversion=conversion,
                customer=customer,
                send_after=max(conversion.occurred_at, now)
                + timedelta(hours=policy.survey_delay_hours),
            )
    except IntegrityError:
        return Survey.objects.get(conversion=conversion)


def surveys_enqueue_due(*, limit: int = 500) -> int:
    """Beat: enqueue the surveys whose time has come, and free claims a dead worker left."""
    from reviews.tasks import email_survey

    now = timezone.now()
    Survey.objects.filter(
        status=Survey.Status.SENDING, claimed_at__lt=now - timedelta(minutes=30)
    ).update(status=Survey.Status.SCHEDULED, claimed_at=None)
    due = list(
        Survey.objects.filter(status=Survey.Status.SCHEDULED, send_after__lte=now)
        .order_by("send_after")
        .values_list("pk", flat=True)[:limit]
    )
    for survey_id in due:
        email_survey.delay(survey_id)
    return len(due)


def survey_token(survey: Survey) -> str:
    return signing.TimestampSigner(salt=SURVEY_SALT).sign(survey.public_id.hex)


def survey_links(survey: Survey) -> list[tuple[int, str]]:
    """The 0-10 one-click answer links, absolute, for the email."""
    token = survey_token(survey)
    return [
        (score, settings.SITE_URL + reverse("reviews:survey_answer", args=[token, score]))
        for score in range(11)
    ]


def survey_send(*, survey_id: int) -> bool:
    """Email a due survey once (claimed by compare-and-swap); returns whether it went now."""
    now = timezone.now()
    claimed = Survey.objects.filter(
        pk=survey_id, status=Survey.Status.SCHEDULED, send_after__lte=now
    ).update(status=Survey.Status.SENDING, claimed_at=now)
    if not claimed:
        return False
    survey = Survey.objects.select_related("customer__user", "customer__contact_person").get(
        pk=survey_id
    )
    try:
        # Sent only with marketing consent ("news, offers and surveys"), which may have been
        # withdrawn since the purchase; the email carries the one-click unsubscribe.
        sent = customer_email_send(
            customer=survey.customer,
            template="reviews/survey",
            context={"links": survey_links(survey)},
            topic=ConsentRecord.Topic.MARKETING,
        )
    except Exception:
        Survey.objects.filter(pk=survey_id, status=Survey.Status.SENDING).update(
            status=Survey.Status.SCHEDULED, claimed_at=None
        )
        raise
    if not sent:
        Survey.objects.filter(pk=survey_id).update(
            status=Survey.Status.CANCELLED, cancel_reason="no consent"
        )
        return False
    Survey.objects.filter(pk=survey_id, status=Survey.Status.SENDING).update(
        status=Survey.Status.SENT, sent_at=timezone.now()
    )
    return True


def survey_from_token(token: str) -> Survey:
    """The survey a link belongs to; `SurveyLinkError` if forged or expired."""
    signer = signing.TimestampSigner(salt=SURVEY_SALT)
    max_age = timedelta(days=ReviewPolicy.current().survey_link_days)
    try:
        public_id = signer.unsign(token, max_age=max_age)
    except signing.SignatureExpired:
        raise SurveyLinkError(
            _("This survey link has expired. Thank you all the same!"), code="expired", status=410
        ) from None
    except signing.BadSignature:
        raise SurveyLinkError(
            _("This survey link is not valid."), code="invalid", status=400
        ) from None
    survey = Survey.objects.select_related("customer__user").filter(public_id=public_id).first()
    if survey is None or survey.status == Survey.Status.CANCELLED:
        raise SurveyLinkError(_("This survey link is not valid."), code="invalid", status=400)
    return survey


def survey_answer_check(*, survey: Survey, score: int) -> None:
    """Raise `SurveyLinkError` unless the survey still takes an answer and the score is one.

    For showing the confirmation page: `survey_answer` decides again under its
    compare-and-swap.
    """
    if not isinstance(score, int) or not 0 <= score <= 10:
        raise SurveyLinkError(_("Scores go from 0 to 10."), code="invalid_score", status=400)
    if survey.status == Survey.Status.ANSWERED:
        raise _already_answered()
    if survey.status not in (Survey.Status.SENT, Survey.Status.SENDING):
        raise SurveyLinkError(_("This survey link is not valid."), code="invalid", status=400)


def _already_answered() -> SurveyLinkError:
    return SurveyLinkError(
        _("You have already answered this survey. Thank you!"),
        code="already_answered",
        status=409,
    )


def survey_answer(*, survey: Survey, score: int) -> Survey:
    """Record the one answer (compare-and-swap); a detractor raises an alert at once.

    Only a person's confirmation (a POST) may call this: mail scanners open the links
    in an email before the person does.
    """
    if not isinstance(score, int) or not 0 <= score <= 10:
        raise SurveyLinkError(_("Scores go from 0 to 10."), code="invalid_score", status=400)
    now = timezone.now()
    with transaction.atomic():
        changed = Survey.objects.filter(
            pk=survey.pk, status__in=[Survey.Status.SENT, Survey.Status.SENDING]
        ).update(status=Survey.Status.ANSWERED, score=score, answered_at=now)
        if not changed:
            if Survey.objects.filter(pk=survey.pk, status=Survey.Status.ANSWERED).exists():
                raise _already_answered()
            raise SurveyLinkError(_("This survey link is not valid."), code="invalid", status=400)
        survey.status, survey.score, survey.answered_at = Survey.Status.ANSWERED, score, now
        if survey.group == Survey.Group.DETRACTOR:
            _alert_raise(kind=FeedbackAlert.Kind.DETRACTOR, customer=survey.customer, survey=survey)
    return survey


def survey_comment_add(*, survey: Survey, comment: str) -> Survey:
    """The optional comment after the score, once; it joins the alert a detractor raised."""
    if not comment.strip():
        raise ValidationError({"comment": _("Write a comment, or just close this page.")})
    changed = Survey.objects.filter(pk=survey.pk, status=Survey.Status.ANSWERED, comment="").update(
        comment=comment.strip()
    )
    if not changed:
        raise SurveyLinkError(
            _("Your comment has already been received. Thank you!"),
            code="already_commented",
            status=409,
        )
    survey.comment = comment.strip()
    return survey


def referral_url(customer: Customer) -> str:
    """The customer's referral link, as the referrals app serves it (`/r/<code>/`)."""
    return f"{settings.SITE_URL}/r/{customer.referral_code}/"


# Points ----------------------------------------------------------------------


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
    Review.objects.filter(pk=review.pk, incentivised=False).update(incentivised=True)
    return True
