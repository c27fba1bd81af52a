"""The email outbox: an email asked for inside a transaction is stored in it, then sent.

`core.emails.email_send` (and allauth's emails, through the account adapter) store an
`OutboxEmail` row in the caller's transaction and queue its delivery after commit. A
worker sends it with retries and a doubling backoff; the beat's sweeper hands on rows
whose message the broker lost (it was down at commit, or a worker died). Delivery is at
least once: a row's `Message-ID` is chosen when it is stored and sent on every attempt,
so a copy that arrives twice is recognisable as the same email.
"""

from __future__ import annotations

import smtplib
from datetime import datetime, timedelta
from email.utils import make_msgid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import DNS_NAME
from django.db import transaction
from django.db.models import F, Min, Q, QuerySet
from django.utils import timezone

from core.db import enqueue_after_commit
from core.emails import Email, email_deliver
from core.models import OutboxEmail

DELIVER_TASK = "core.tasks.email_outbox_deliver"
SWEEP_BATCH = 1000


def _message_domain() -> str:
    return urlsplit(settings.SITE_URL).hostname or str(DNS_NAME)


def outbox_email_store(
    *,
    to: str,
    subject: str,
    body: str,
    html: str = "",
    headers: dict[str, str] | None = None,
    from_email: str | None = None,
) -> OutboxEmail:
    """Store one rendered email in the current transaction and queue it after commit.

    With `EMAIL_OUTBOX_SEND_AT_ONCE` (tests that read Django's mail outbox right after an
    action) it is also sent at once, in this process, through the same delivery path.
    """
    headers = {k: v for k, v in (headers or {}).items() if k.lower() != "message-id"}
    email = OutboxEmail.objects.create(
        message_id=make_msgid(domain=_message_domain()),
        to=to,
        from_email=from_email or settings.DEFAULT_FROM_EMAIL,
        subject=subject,
        body=body,
        html=html,
        headers=headers,
    )
    if settings.EMAIL_OUTBOX_SEND_AT_ONCE:
        outbox_email_attempt(email_id=email.pk)
    else:
        enqueue_after_commit(DELIVER_TASK, email.pk)
    return email


def _claim_seconds() -> int:
    # Longer than one SMTP conversation can take (each step waits EMAIL_TIMEOUT at most).
    return max(60, settings.EMAIL_TIMEOUT * 6)


def _send(email: OutboxEmail) -> None:
    email_deliver(
        to=email.to,
        email=Email(subject=email.subject, body=email.body, html=email.html),
        headers={**email.headers, "Message-ID": email.message_id},
        from_email=email.from_email,
    )


def _permanent(error: Exception) -> bool:
    """The server refused the message for good (a 5xx answer): retrying cannot help."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(500 <= code < 600 for code, _msg in error.recipients.values())
    return isinstance(error, smtplib.SMTPResponseException) and 500 <= error.smtp_code < 600


def outbox_email_attempt(*, email_id: int) -> float | None:
    """Send a waiting email once, if no other worker holds it and its time has come.

    Returns the seconds to wait before the next attempt when this one failed and another
    is allowed, else None (sent, failed for good, or not this worker's to send).
    """
    now = timezone.now()
    claimed = (
        OutboxEmail.objects.filter(
            pk=email_id, status=OutboxEmail.Status.PENDING, next_attempt_at__lte=now
        )
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + timedelta(seconds=_claim_seconds()), attempts=F("attempts") + 1)
    )
    if not claimed:
        return None
    email = OutboxEmail.objects.get(pk=email_id)
    try:
        _send(email)
    except (smtplib.SMTPException, OSError) as error:
        failed = _permanent(error) or email.attempts >= settings.EMAIL_SEND_ATTEMPTS
        delay = settings.EMAIL_RETRY_BACKOFF * 2 ** (email.attempts - 1)
        OutboxEmail.objects.filter(pk=email_id).update(
            status=OutboxEmail.Status.FAILED if failed else OutboxEmail.Status.PENDING,
            next_attempt_at=now + timedelta(seconds=delay),
            claimed_until=None,
            last_error=f"{type(error).__name__}: {error}"[:2000],
        )
        return None if failed else delay
    OutboxEmail.objects.filter(pk=email_id).update(
        status=OutboxEmail.Status.SENT, sent_at=timezone.now(), claimed_until=None, last_error=""
    )
    return None


def outbox_sweep(*, now: datetime | None = None) -> int:
    """Queue again the emails still waiting a while after they were due (the broker lost
    their message, or their worker died); returns how many.

    Each is stamped due now, so the next sweep waits again before queueing it once more.
    """
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.EMAIL_OUTBOX_SWEEP_AFTER_SECONDS)
    with transaction.atomic():
        ids = list(
            OutboxEmail.objects.filter(
                status=OutboxEmail.Status.PENDING, next_attempt_at__lte=stale
            )
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:SWEEP_BATCH]
        )
        OutboxEmail.objects.filter(pk__in=ids).update(next_attempt_at=now)
        for pk in ids:
            enqueue_after_commit(DELIVER_TASK, pk)
    return len(ids)


def outbox_emails_resend(*, emails: QuerySet[OutboxEmail]) -> int:
    """Send again, now, the selected emails that were not delivered (waiting or failed);
    a sent one is left alone. Returns how many were queued."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(emails.exclude(status=OutboxEmail.Status.SENT).values_list("pk", flat=True))
        OutboxEmail.objects.filter(pk__in=ids).update(
            status=OutboxEmail.Status.PENDING, next_attempt_at=now, claimed_until=None, attempts=0
        )
        for pk in ids:
            enqueue_after_commit(DELIVER_TASK, pk)
    return len(ids)


def outbox_prune(*, now: datetime | None = None) -> int:
    """Delete sent emails older than `EMAIL_OUTBOX_KEEP_DAYS` (they hold addresses and
    personal messages); returns how many."""
    now = now or timezone.now()
    deleted, _by_model = OutboxEmail.objects.filter(
        status=OutboxEmail.Status.SENT,
        sent_at__lt=now - timedelta(days=settings.EMAIL_OUTBOX_KEEP_DAYS),
    ).delete()
    return deleted


def outbox_oldest_pending_age(*, now: datetime | None = None) -> float:
    """Seconds since the oldest email still waiting to be sent was stored; 0 when none
    waits. Failed emails are not counted: they wait for staff, not for a worker."""
    oldest = OutboxEmail.objects.filter(status=OutboxEmail.Status.PENDING).aggregate(
        oldest=Min("created_at")
    )["oldest"]
    if oldest is None:
        return 0.0
    return max(0.0, ((now or timezone.now()) - oldest).total_seconds())
