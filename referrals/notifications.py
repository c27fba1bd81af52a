"""The email that tells a referred friend their welcome gift is on its way."""

from __future__ import annotations

from customers.models import ConsentRecord
from customers.privacy import customer_email_send
from referrals.models import Referral


def welcome_gift_email_send(*, referral_id: int) -> bool:
    """Sent at least once after the friend's first purchase qualified the referral."""
    referral = Referral.objects.select_related(
        "referee__user",
        "referee__contact_person",
        "referrer__user",
        "friend_transaction",
        "friend_voucher__reward",
    ).get(pk=referral_id)
    if referral.status not in (Referral.Status.QUALIFIED, Referral.Status.REWARDED):
        return False
    gift = referral.friend_transaction
    return customer_email_send(
        customer=referral.referee,
        template="referrals/welcome_gift",
        context={
            "referrer": referral.referrer,
            "points": gift.entries.get(amount__gt=0, account__customer__isnull=False).amount
            if gift
            else 0,
            "settles_at": gift.settles_at if gift else None,
            "voucher": referral.friend_voucher,
        },
        topic=ConsentRecord.Topic.NOTIFICATIONS,
    )
