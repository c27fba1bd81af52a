"""Feedback alerts: a low rating or a detractor's score reaches the contact person and staff
at once, by email, and staff take it off the open queue when they have answered."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from core.emails import email_send
from customers.languages import language_for_address
from customers.models import Customer, User
from reviews.models import (
    FeedbackAlert,
    Review,
    ReviewPolicy,
    Survey,
)


def alert_raise(
    *,
    kind: str,
    customer: Customer,
    review: Review | None = None,
    survey: Survey | None = None,
) -> FeedbackAlert | None:
    """Raise one alert per review or survey and email it (through the outbox, in the
    caller's transaction); None if it exists."""
    try:
        with transaction.atomic():
            alert = FeedbackAlert.objects.create(
                kind=kind, customer=customer, review=review, survey=survey
            )
    except IntegrityError:
        return None
    feedback_alert_send(alert_id=alert.pk)
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
    with transaction.atomic():
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
        for address in _alert_recipients(alert):
            email_send(
                to=address,
                template="reviews/feedback_alert",
                context=context,
                language=language_for_address(address),
            )
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
