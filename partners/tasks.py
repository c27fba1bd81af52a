from celery import shared_task

from customers.tasks import EMAIL_RETRY
from partners import links, webhooks
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


@shared_task(**EMAIL_RETRY)
def email_link_request_send(link_id: int) -> bool:
    """Ask a person for their yes to a merchant's link."""
    return links.link_request_send(link_id=link_id)


@shared_task
def partner_links_sweep() -> tuple[int, int]:
    """Beat: hand on link requests the broker lost; end those unanswered in time."""
    return links.links_sweep()
