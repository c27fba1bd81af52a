from celery import shared_task

from loyalty.ledger import settle_due


@shared_task
def ledger_settle_due() -> int:
    """Beat: settle what is due. Safe to overlap with another run or a manual one."""
    return settle_due()
