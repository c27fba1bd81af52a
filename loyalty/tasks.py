from celery import shared_task

from customers.tasks import EMAIL_RETRY
from loyalty.expiry import expiry_reminder_send, expiry_reminders_queue, points_expire_due
from loyalty.gifts import birthday_gifts_award, gift_campaign_run, gift_email_send
from loyalty.ledger import settle_due
from loyalty.notifications import rewards_settled_notify, voucher_email_send
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


@shared_task(**EMAIL_RETRY)
def email_gift_received(gift_id: int) -> None:
    gift_email_send(gift_id=gift_id)


@shared_task(**EMAIL_RETRY)
def email_points_expiring(notice_id: int) -> None:
    expiry_reminder_send(notice_id=notice_id)


@shared_task(**EMAIL_RETRY)
def email_rewards_settled(batch: str) -> int:
    return rewards_settled_notify(batch=batch)


@shared_task(**EMAIL_RETRY)
def email_voucher_issued(voucher_id: int) -> bool:
    return voucher_email_send(voucher_id=voucher_id)
