from celery import shared_task

from partners.idempotency import idempotency_purge


@shared_task
def idempotency_purge_expired() -> int:
    """Beat: forget idempotency records past their 24-hour replay window."""
    return idempotency_purge()
