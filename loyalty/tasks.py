from celery import shared_task
from django.conf import settings

from loyalty.gifts import gift_campaign_run, gift_email_send
from loyalty.ledger import settle_due


@shared_task
def ledger_settle_due() -> int:
    """Beat: settle what is due. Safe to overlap with another run or a manual one."""
    return settle_due()


@shared_task
def ledger_gift_campaign_run(campaign_id: int) -> None:
    """Give a staff campaign's gifts; a re-delivered task skips who already has one."""
    gift_campaign_run(campaign_id=campaign_id)


@shared_task(
    autoretry_for=(OSError,),
    retry_backoff=settings.EMAIL_RETRY_BACKOFF,
    retry_backoff_max=3600,
    max_retries=8,
)
def email_gift_received(gift_id: int) -> None:
    gift_email_send(gift_id=gift_id)
