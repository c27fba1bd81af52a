from celery import shared_task

from partners import webhooks
from partners.idempotency import idempotency_purge


@shared_task
def idempotency_purge_expired() -> int:
    """Beat: forget idempotency records past their 24-hour replay window."""
    return idempotency_purge()


@shared_task
def webhook_deliver(event_id: int) -> bool | None:
    """One delivery attempt; the next, after backoff, is queued by `webhook_deliver_due`."""
    return webhooks.webhook_deliver(event_id=event_id)


@shared_task
def webhook_deliver_due() -> int:
    """Beat: queue every event whose next attempt is due (retries, and what a broker lost)."""
    due = webhooks.webhook_events_due()
    for event_id in due:
        webhook_deliver.delay(event_id)
    return len(due)
