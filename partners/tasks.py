from celery import shared_task
from django.conf import settings
from django.db import IntegrityError, OperationalError

from customers.imports import import_files_forget
from partners import imports, links, webhooks
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


@shared_task
def partner_links_sweep() -> tuple[int, int]:
    """Beat: hand on link requests the broker lost; end those unanswered in time."""
    return links.links_sweep()


# A chunk that lost a race (an address or a partner id taken meanwhile) rolls back whole;
# running it again reads the database anew and refuses or matches those rows.
IMPORT_RETRY = {
    "autoretry_for": (IntegrityError, OperationalError),
    "retry_backoff": 5,
    "max_retries": 5,
    "acks_late": True,
}


@shared_task(**IMPORT_RETRY)
def customer_import_analyse(customer_import_id: int) -> None:
    """Check an uploaded customer file and keep its preview."""
    imports.customer_import_analyse(customer_import_id=customer_import_id)


@shared_task(**IMPORT_RETRY)
def customer_import_run(customer_import_id: int) -> bool:
    """Import a confirmed file, one time slice at a time (each queues the next)."""
    return imports.customer_import_run(
        customer_import_id=customer_import_id, seconds=settings.CUSTOMER_IMPORT_SLICE_SECONDS
    )


@shared_task
def customer_imports_sweep() -> int:
    """Beat: hand on imports whose worker died or whose task the broker lost; forget the
    files of imports that ended long ago."""
    import_files_forget()
    stalled = imports.customer_imports_stalled()
    for customer_import_id in stalled.checks:
        customer_import_analyse.delay(customer_import_id)
    for customer_import_id in stalled.runs:
        customer_import_run.delay(customer_import_id)
    return len(stalled.checks) + len(stalled.runs)
