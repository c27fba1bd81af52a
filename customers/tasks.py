from __future__ import annotations

from celery import shared_task
from django.conf import settings

from customers.imports import WELCOME_BATCH_SECONDS, import_welcomes_send
from customers.notices import notices_prune
from customers.privacy import data_export_build


@shared_task(acks_late=True)
def data_export_build_task(export_id: int) -> None:
    data_export_build(export_id=export_id)


@shared_task
def notices_prune_old() -> int:
    """Beat, daily: delete notices past their retention; running twice deletes nothing more."""
    return notices_prune()


@shared_task
def email_import_welcomes(customer_import_id: int) -> None:
    """A batch of an import's welcomes, then the next batch when its turn comes: a bounded
    rate per import, however many customers the file brought."""
    waiting = import_welcomes_send(
        customer_import_id=customer_import_id, limit=settings.CUSTOMER_IMPORT_WELCOMES_PER_MINUTE
    )
    if waiting:
        email_import_welcomes.apply_async((customer_import_id,), countdown=WELCOME_BATCH_SECONDS)
