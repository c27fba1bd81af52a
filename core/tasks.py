"""Celery tasks of the email outbox (thin: `core.outbox` does the work)."""

from __future__ import annotations

from celery import shared_task

from core.outbox import outbox_email_attempt, outbox_prune, outbox_sweep


@shared_task
def email_outbox_deliver(email_id: int) -> None:
    retry_in = outbox_email_attempt(email_id=email_id)
    if retry_in is not None:
        # Lost if the broker is down now: the sweeper hands the email on when it is due.
        email_outbox_deliver.apply_async((email_id,), countdown=retry_in)


@shared_task
def outbox_emails_sweep() -> int:
    return outbox_sweep()


@shared_task
def outbox_emails_prune() -> int:
    return outbox_prune()
