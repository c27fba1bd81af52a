from celery import shared_task

from loyalty.expiry import expiry_reminders_queue, points_expire_due
from loyalty.gifts import birthday_gifts_award, gift_campaign_run
from loyalty.ledger import settle_due
from loyalty.notifications import settled_batch_emails_sweep, settled_batch_emails_write
from loyalty.vouchers import vouchers_expire


@shared_task
def ledger_settle_due() -> int:
    """Beat: settle what is due. Safe to overlap with another run or a manual one."""
    return settle_due()


@shared_task
def ledger_points_expire() -> dict[str, int]:
    """Beat, daily: remind, then expire points of inactive accounts; mark vouchers past date."""
    return {
        "reminded": expiry_reminders_queue(),
        "expired": points_expire_due(),
        "vouchers_expired": vouchers_expire(),
    }


@shared_task
def ledger_birthday_gifts() -> int:
    """Beat, daily: birthday points, once per customer and year however often it runs."""
    return birthday_gifts_award()


@shared_task
def ledger_gift_campaign_run(campaign_id: int) -> None:
    """Give a staff campaign's gifts; a re-delivered task skips who already has one."""
    gift_campaign_run(campaign_id=campaign_id)


@shared_task
def email_rewards_settled(batch: str) -> int:
    """The "reward settled" emails of one settlement batch, into the outbox (once)."""
    return settled_batch_emails_write(batch=batch)


@shared_task
def email_rewards_settled_sweep() -> int:
    """Beat: settlement batches whose emails the broker lost."""
    return settled_batch_emails_sweep()
