"""Links between partners and customers, and a merchant's request for a member's yes.

An own site of the business links a customer at once. A merchant's link starts
pending: the person is emailed "yes / no", and only their yes lets the merchant see
them. Purchases a merchant reports meanwhile are recorded with their points held; a
yes releases them (and qualifies the buyer's referral), a no or no answer in time voids
them. Every answer a partner cares about is a webhook (`customer.linked`,
`customer.link_ended`) written in the same transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from core.emails import email_send
from customers.languages import language_for_recipient
from customers.models import Conversion, Customer
from customers.privacy import customer_erase
from loyalty.earning import conversion_earn_release, conversion_earn_void
from partners.models import Partner, PartnerCustomer, WebhookEvent
from partners.webhooks import webhook_emit_to
from referrals.services import referral_conversion_qualify
from reviews.surveys import survey_schedule

logger = logging.getLogger(__name__)

# How long a merchant's request waits for the person's answer before it ends.
LINK_REQUEST_DAYS = 30
# A request still unsent after this was lost by the broker and is handed on again.
LINK_REQUEST_SWEEP_AFTER = timedelta(minutes=5)
_CONSENT_SALT = "partners.link-consent"


class ExternalIdTaken(Exception):
    """The partner already uses this external id for another customer."""

    code = "external_id_taken"


def link_held_until(link: PartnerCustomer) -> datetime:
    """Until when a purchase reported through a pending link holds its points: past the
    request's end, so they can only settle once the person said yes."""
    return (link.requested_at or timezone.now()) + timedelta(days=LINK_REQUEST_DAYS + 1)


def customer_link(
    *, partner: Partner, customer: Customer, external_id: str, created_customer: bool = False
) -> PartnerCustomer:
    """Link a customer to the partner under `external_id` (a new id replaces the old).

    An own site's link is active at once. A merchant's new (or ended) link is pending and
    the person is asked by email; a pending or active one is returned as it is.
    """
    try:
        with transaction.atomic():
            link, created = PartnerCustomer.objects.select_for_update().get_or_create(
                partner=partner,
                customer=customer,
                defaults={"external_id": external_id, "created_customer": created_customer},
            )
            if link.external_id != external_id:
                link.external_id = external_id
                link.save(update_fields=["external_id"])
            if partner.kind == Partner.Kind.OWN:
                if link.status != PartnerCustomer.Status.ACTIVE:
                    link.status = PartnerCustomer.Status.ACTIVE
                    link.save(update_fields=["status"])
            elif created or link.status == PartnerCustomer.Status.ENDED:
                _link_request(link=link)
            return link
    except IntegrityError:
        raise ExternalIdTaken(external_id) from None


def _link_request(*, link: PartnerCustomer) -> None:
    link.status = PartnerCustomer.Status.PENDING
    link.requested_at = timezone.now()
    link.request_sent_at = link.answered_at = link.ended_at = None
    link.save(
        update_fields=["status", "requested_at", "request_sent_at", "answered_at", "ended_at"]
    )
    link_request_send(link_id=link.pk)


def link_consent_token(link: PartnerCustomer) -> str:
    """The signed part of the yes/no link; it names one request (its date) of one link."""
    return signing.dumps([link.pk, link.requested_at.isoformat()], salt=_CONSENT_SALT)


def link_by_token(token: str) -> PartnerCustomer | None:
    """The pending link a consent token was made for, or None (forged, expired, answered
    or asked again since)."""
    try:
        pk, requested = signing.loads(
            token, salt=_CONSENT_SALT, max_age=timedelta(days=LINK_REQUEST_DAYS)
        )
    except (signing.BadSignature, ValueError, TypeError):
        return None
    link = (
        PartnerCustomer.objects.select_related("partner", "customer__user")
        .filter(pk=pk, status=PartnerCustomer.Status.PENDING)
        .first()
    )
    if link is None or link.requested_at is None or link.requested_at.isoformat() != requested:
        return None
    return link


def link_consent_url(link: PartnerCustomer) -> str:
    return settings.SITE_URL + reverse("partner-link-consent", args=[link_consent_token(link)])


def link_request_send(*, link_id: int) -> bool:
    """Email the person the merchant's request (through the outbox, in the caller's
    transaction); False if it is no longer pending or was asked for already."""
    with transaction.atomic():
        link = (
            PartnerCustomer.objects.select_related("partner", "customer__user")
            .filter(pk=link_id, status=PartnerCustomer.Status.PENDING, request_sent_at__isnull=True)
            .first()
        )
        if link is None:
            return False
        email_send(
            to=link.customer.user.email,
            template="partners/link_request",
            language=language_for_recipient(link.customer),
            context={
                "merchant": link.partner.name,
                "new_member": link.created_customer,
                "consent_url": link_consent_url(link),
                "days": LINK_REQUEST_DAYS,
            },
        )
        PartnerCustomer.objects.filter(pk=link.pk).update(request_sent_at=timezone.now())
    return True


def _link_event(link: PartnerCustomer, type: str, **data) -> None:
    webhook_emit_to(
        partner=link.partner,
        type=type,
        data={
            "customer": str(link.customer.public_id),
            "external_id": link.external_id,
            **data,
        },
    )


def _held_conversions(link: PartnerCustomer):
    """The purchases reported since this request: those of an earlier, active link earn as
    any purchase does and are not the answer's to release or void."""
    return Conversion.objects.filter(
        customer_id=link.customer_id,
        channel=str(link.partner.public_id),
        created_at__gte=link.requested_at,
    ).select_related("customer")


def link_answer(*, link_id: int, accept: bool) -> PartnerCustomer | None:
    """The person's yes or no to a merchant's request; None if it is no longer pending.

    A yes makes the link active and releases the purchases reported meanwhile: their
    points settle as the earn rule says, and the buyer's referral may qualify.
    """
    with transaction.atomic():
        link = (
            PartnerCustomer.objects.select_for_update()
            .select_related("partner", "customer__user")
            .filter(pk=link_id, status=PartnerCustomer.Status.PENDING)
            .first()
        )
        if link is None:
            return None
        if not accept:
            _link_end(link=link, reason="declined")
            return link
        link.status = PartnerCustomer.Status.ACTIVE
        link.answered_at = timezone.now()
        link.save(update_fields=["status", "answered_at"])
        for conversion in _held_conversions(link):
            conversion_earn_release(conversion=conversion)
            referral_conversion_qualify(conversion=conversion)
            survey_schedule(conversion=conversion)
        _link_event(link, WebhookEvent.Type.CUSTOMER_LINKED)
    return link


def _link_end(*, link: PartnerCustomer, reason: str) -> None:
    """End a link (inside the caller's transaction, the row locked): held points are
    voided and the partner is told. A person who was not a member, never signed in and
    is linked nowhere else said no to becoming one: their account is erased."""
    was_pending = link.status == PartnerCustomer.Status.PENDING
    link.status = PartnerCustomer.Status.ENDED
    link.ended_at = timezone.now()
    if was_pending:
        link.answered_at = link.ended_at
    link.save(update_fields=["status", "ended_at", "answered_at"])
    if was_pending:
        for conversion in _held_conversions(link):
            conversion_earn_void(
                conversion=conversion, reason=f"The link with {link.partner.name} ended"
            )
    _link_event(link, WebhookEvent.Type.CUSTOMER_LINK_ENDED, reason=reason)
    customer = link.customer
    if (
        was_pending
        and link.created_customer
        and customer.user.last_login is None
        and not customer.partner_links.exclude(pk=link.pk)
        .exclude(status=PartnerCustomer.Status.ENDED)
        .exists()
    ):
        customer_erase(customer=customer, source=f"declined merchant {link.partner.public_id}")


def link_end(*, link: PartnerCustomer, reason: str, forget: bool = False) -> None:
    """End a merchant's link (its redaction: `forget` also deletes the link, the
    merchant's id for the person with it); the member's account stays."""
    with transaction.atomic():
        locked = (
            PartnerCustomer.objects.select_for_update()
            .select_related("partner", "customer__user")
            .get(pk=link.pk)
        )
        if locked.status != PartnerCustomer.Status.ENDED:
            _link_end(link=locked, reason=reason)
        if forget:
            locked.delete()


def links_sweep() -> tuple[int, int]:
    """Email requests left unsent, and end those unanswered in time.

    Returns (requests emailed, links ended).
    """
    now = timezone.now()
    unsent = list(
        PartnerCustomer.objects.filter(
            status=PartnerCustomer.Status.PENDING,
            request_sent_at__isnull=True,
            requested_at__lte=now - LINK_REQUEST_SWEEP_AFTER,
        ).values_list("pk", flat=True)[:1000]
    )
    for pk in unsent:
        link_request_send(link_id=pk)
    ended = 0
    for pk in PartnerCustomer.objects.filter(
        status=PartnerCustomer.Status.PENDING,
        requested_at__lte=now - timedelta(days=LINK_REQUEST_DAYS),
    ).values_list("pk", flat=True)[:1000]:
        with transaction.atomic():
            link = (
                PartnerCustomer.objects.select_for_update()
                .select_related("partner", "customer__user")
                .filter(pk=pk, status=PartnerCustomer.Status.PENDING)
                .first()
            )
            if link is not None:
                _link_end(link=link, reason="unanswered")
                ended += 1
    return len(unsent), ended
