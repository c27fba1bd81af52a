"""Signed webhooks: events written to an outbox with the change, delivered with retries.

Delivery is claimed by a compare-and-swap on the event's `next_attempt_at`
(a lease), so two workers, or a worker and the sweeper, never post the same
attempt twice; a failed attempt schedules the next with exponential backoff
until the retry window (over 24 hours) has passed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from core.db import enqueue_after_commit
from core.request_id import REQUEST_ID_HEADER, request_id_get, request_id_new
from customers.models import User
from partners.models import (
    Partner,
    PartnerCustomer,
    WebhookDelivery,
    WebhookEvent,
    webhook_secret_generate,
)
from partners.serializers import timestamp

SIGNATURE_HEADER = "Kindred-Signature"
RETRY_WINDOW = timedelta(hours=25)
MAX_BACKOFF = timedelta(hours=6)
# Longer than the request timeout: a lease that ran out means the worker died.
LEASE = timedelta(minutes=5)


def webhook_signature(*, secrets: Sequence[str], timestamp: int, body: bytes) -> str:
    """The header value: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, with
    one `v1=` for each secret that signs (two while a rotated secret overlaps)."""
    signed = f"{timestamp}.".encode() + body
    digests = [hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest() for secret in secrets]
    return ",".join([f"t={timestamp}", *(f"v1={digest}" for digest in digests)])


def webhook_signing_secrets(partner: Partner, *, now: datetime | None = None) -> list[str]:
    """The current secret, and the previous one until its overlap ends."""
    now = now or timezone.now()
    expires_at = partner.previous_webhook_secret_expires_at
    if partner.previous_webhook_secret and expires_at is not None and expires_at > now:
        return [partner.webhook_secret, partner.previous_webhook_secret]
    return [partner.webhook_secret]


def webhook_secret_rotate(
    *, partner: Partner, actor: User, overlap: timedelta | None = None
) -> Partner:
    """Staff: give the partner a new webhook secret; the old one keeps signing (a second
    `v1=`) for `overlap` (PARTNER_WEBHOOK_SECRET_OVERLAP_HOURS by default), while the
    partner moves to the new one."""
    if overlap is None:
        overlap = timedelta(hours=settings.PARTNER_WEBHOOK_SECRET_OVERLAP_HOURS)
    with transaction.atomic():
        locked = Partner.objects.select_for_update().get(pk=partner.pk)
        now = timezone.now()
        locked.previous_webhook_secret = locked.webhook_secret
        locked.previous_webhook_secret_expires_at = now + overlap
        locked.webhook_secret = webhook_secret_generate()
        locked.webhook_secret_rotated_at = now
        locked.webhook_secret_rotated_by = actor
        locked.save(
            update_fields=[
                "previous_webhook_secret",
                "previous_webhook_secret_expires_at",
                "webhook_secret",
                "webhook_secret_rotated_at",
                "webhook_secret_rotated_by",
            ]
        )
    return locked


def webhook_body(event: WebhookEvent) -> bytes:
    """The same bytes on every attempt (the event's id and content never change)."""
    return json.dumps(
        {
            "id": str(event.public_id),
            "type": event.type,
            "created_at": timestamp(event.created_at),
            "data": event.data,
        },
        cls=DjangoJSONEncoder,
        separators=(",", ":"),
    ).encode()


def webhook_emit(
    *, type: str, items: Iterable[tuple[int, dict]], once_per_partner: bool = False
) -> list[WebhookEvent]:
    """Write an event for every partner with a webhook URL and an active link to each customer.

    `items` pairs a customer's primary key with the event's data; with
    `once_per_partner`, the items are one piece of news about several
    customers, and a partner linked to more than one hears it once. Call it
    inside the transaction that made the change: the events commit with it,
    and are queued for delivery only once committed.
    """
    items = list(items)
    if not items:
        return []
    links: dict[int, list[tuple[int, str]]] = {}
    for customer_id, partner_id, kind in PartnerCustomer.objects.filter(
        customer_id__in={customer_id for customer_id, _data in items},
        status=PartnerCustomer.Status.ACTIVE,
        partner__active=True,
        partner__webhook_url__gt="",
    ).values_list("customer_id", "partner_id", "partner__kind"):
        links.setdefault(customer_id, []).append((partner_id, kind))
    now = timezone.now()
    pending, told = [], set()
    for customer_id, data in items:
        for partner_id, kind in links.get(customer_id, []):
            if once_per_partner and partner_id in told:
                continue
            told.add(partner_id)
            pending.append(
                WebhookEvent(
                    partner_id=partner_id,
                    type=type,
                    data=merchant_view(data) if kind == Partner.Kind.MERCHANT else data,
                    next_attempt_at=now,
                )
            )
    events = WebhookEvent.objects.bulk_create(pending)
    _enqueue_on_commit([event.pk for event in events])
    return events


def merchant_view(data: dict) -> dict:
    """Event data as a merchant may read it: a memo can name an order placed elsewhere."""
    return {**data, "memo": ""} if data.get("memo") else data


def webhook_emit_to(*, partner: Partner, type: str, data: dict) -> WebhookEvent | None:
    """Write an event for one partner (news about its own link), if it takes webhooks."""
    if not (partner.active and partner.webhook_url):
        return None
    event = WebhookEvent.objects.create(
        partner=partner, type=type, data=data, next_attempt_at=timezone.now()
    )
    _enqueue_on_commit([event.pk])
    return event


def _enqueue_on_commit(event_ids: list[int]) -> None:
    # With the broker down the change is committed all the same, and
    # `webhook_deliver_due` (beat) delivers the events when it is back.
    for pk in event_ids:
        enqueue_after_commit("partners.tasks.webhook_deliver", pk)


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failure: doubling from the base, capped."""
    base = timedelta(seconds=settings.PARTNER_WEBHOOK_RETRY_BASE_SECONDS)
    return min(base * 2 ** (attempts - 1), MAX_BACKOFF)


def webhook_deliver(*, event_id: int) -> bool | None:
    """Make one delivery attempt if the event is due; True if the partner accepted it,
    False if it failed, None if it was not due or another worker holds it."""
    now = timezone.now()
    claimed = WebhookEvent.objects.filter(
        pk=event_id, status=WebhookEvent.Status.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=now + LEASE)
    if not claimed:
        return None
    event = WebhookEvent.objects.select_related("partner").get(pk=event_id)
    attempt = event.attempts + 1
    status, error, duration_ms = _post(event)
    succeeded = status is not None and 200 <= status < 300
    WebhookDelivery.objects.create(
        event=event,
        attempt=attempt,
        url=event.partner.webhook_url[:500],
        response_status=status,
        error=error,
        duration_ms=duration_ms,
        succeeded=succeeded,
    )
    finished = timezone.now()
    if succeeded:
        changes = {"status": WebhookEvent.Status.DELIVERED, "delivered_at": finished}
    elif finished - event.created_at >= RETRY_WINDOW:
        changes = {"status": WebhookEvent.Status.FAILED, "next_attempt_at": None}
    else:
        changes = {"next_attempt_at": finished + backoff(attempt)}
    WebhookEvent.objects.filter(pk=event.pk).update(attempts=attempt, **changes)
    return succeeded


def _post(event: WebhookEvent) -> tuple[int | None, str, int]:
    """POST the signed event; returns (HTTP status or None, error text, milliseconds)."""
    partner = event.partner
    if not partner.webhook_url or not partner.active:
        return None, "The partner has no webhook URL or is inactive.", 0
    body = webhook_body(event)
    request = urllib.request.Request(  # noqa: S310 - staff set http(s) URLs in the admin
        partner.webhook_url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Kindred-Webhooks/1",
            # The request that caused the event, when this attempt runs in the task it
            # queued; retries from the beat carry an id of their own. A partner quotes it.
            REQUEST_ID_HEADER: request_id_get() or request_id_new(),
            SIGNATURE_HEADER: webhook_signature(
                secrets=webhook_signing_secrets(partner), timestamp=int(time.time()), body=body
            ),
        },
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(  # noqa: S310
            request, timeout=settings.PARTNER_WEBHOOK_TIMEOUT
        ) as response:
            status, error = response.status, ""
    except urllib.error.HTTPError as refused:
        status, error = refused.code, f"HTTP {refused.code} {refused.reason}"
    except (urllib.error.URLError, OSError, ValueError) as failure:
        status, error = None, f"{type(failure).__name__}: {failure}"[:2000]
    return status, error, int((time.monotonic() - started) * 1000)


def webhook_events_due(*, limit: int = 1000) -> list[int]:
    """Pending events whose next attempt is due (also those a dead worker left leased)."""
    return list(
        WebhookEvent.objects.filter(
            status=WebhookEvent.Status.PENDING, next_attempt_at__lte=timezone.now()
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def webhook_resend(*, events: Iterable[WebhookEvent]) -> int:
    """Staff: deliver these events again now, whatever became of them (same event id)."""
    ids = [event.pk for event in events]
    with transaction.atomic():
        WebhookEvent.objects.filter(pk__in=ids).update(
            status=WebhookEvent.Status.PENDING, next_attempt_at=timezone.now()
        )
        _enqueue_on_commit(ids)
    return len(ids)
