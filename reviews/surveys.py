"""NPS surveys after a purchase: planned, sent with one link per score, answered by a
confirming click, and a detractor's score raises an alert."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import ConsentRecord, Conversion
from customers.privacy import customer_email_send
from reviews.alerts import alert_raise
from reviews.models import (
    FeedbackAlert,
    ReviewPolicy,
    Survey,
)

SURVEY_SALT = "reviews.survey"


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
    """Email a due survey once (claimed by compare-and-swap, stored in the outbox in the
    same transaction); returns whether it went now."""
    now = timezone.now()
    with transaction.atomic():
        claimed = Survey.objects.filter(
            pk=survey_id, status=Survey.Status.SCHEDULED, send_after__lte=now
        ).update(status=Survey.Status.SENDING, claimed_at=now)
        if not claimed:
            return False
        survey = Survey.objects.select_related("customer__user", "customer__contact_person").get(
            pk=survey_id
        )
        # Sent only with marketing consent ("news, offers and surveys"), which may have been
        # withdrawn since the purchase; the email carries the one-click unsubscribe.
        sent = customer_email_send(
            customer=survey.customer,
            template="reviews/survey",
            context={"links": survey_links(survey)},
            topic=ConsentRecord.Topic.MARKETING,
        )
        if not sent:
            Survey.objects.filter(pk=survey_id).update(
                status=Survey.Status.CANCELLED, cancel_reason="no consent"
            )
            return False
        Survey.objects.filter(pk=survey_id).update(
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
            alert_raise(kind=FeedbackAlert.Kind.DETRACTOR, customer=survey.customer, survey=survey)
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
