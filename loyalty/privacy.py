"""The loyalty app's part of a customer's data export (see customers.signals)."""

from __future__ import annotations

from django.db.models import Q
from django.dispatch import receiver

from customers.models import Customer
from customers.privacy import DataSection
from customers.signals import customer_erased, personal_data_collect
from loyalty.models import (
    Account,
    AdjustmentRequest,
    Gift,
    GiftCampaign,
    Redemption,
    Transaction,
    Voucher,
)
from loyalty.selectors import balance, customer_history


@receiver(personal_data_collect, dispatch_uid="loyalty.points_section")
def points_section(sender, *, customer: Customer, **kwargs) -> DataSection:
    current = balance(customer=customer)
    return DataSection(
        name="points",
        models=(Account, Transaction),
        records={
            "balance": {"settled": current.settled, "pending": current.pending},
            "history": [
                {
                    "kind": entry.transaction.kind,
                    "status": entry.transaction.status,
                    "points": entry.amount,
                    "memo": entry.transaction.memo_text,
                    "created_at": entry.transaction.created_at,
                    "settles_at": entry.transaction.settles_at,
                }
                for entry in customer_history(customer=customer)
            ],
        },
    )


@receiver(personal_data_collect, dispatch_uid="loyalty.rewards_section")
def rewards_section(sender, *, customer: Customer, **kwargs) -> DataSection:
    """Redemptions, vouchers, gifts and staff adjustments; campaigns are listed only by name."""
    gifts = Gift.objects.filter(Q(sender=customer) | Q(recipient=customer)).select_related(
        "reward", "campaign"
    )
    return DataSection(
        name="rewards",
        models=(Redemption, Voucher, Gift, GiftCampaign, AdjustmentRequest),
        records={
            "redemptions": list(
                customer.redemptions.values(
                    "public_id", "reward__name", "points_spent", "created_at"
                )
            ),
            "vouchers": list(
                customer.vouchers.values("code", "reward__name", "status", "expires_at", "used_at")
            ),
            "adjustments": list(
                customer.adjustments.values("points", "reason", "status", "created_at")
            ),
            "gifts": [
                {
                    "direction": "sent" if gift.sender_id == customer.pk else "received",
                    "points": gift.points,
                    "reward": gift.reward.name if gift.reward else None,
                    "note": gift.note,
                    "campaign": gift.campaign.name if gift.campaign else None,
                    "created_at": gift.created_at,
                }
                for gift in gifts
            ],
        },
    )


@receiver(customer_erased, dispatch_uid="loyalty.gift_notes_forget")
def gift_notes_forget(sender, *, customer: Customer, **kwargs) -> None:
    """Notes between friends are personal; the gifts themselves stay for the books."""
    Gift.objects.filter(Q(sender=customer) | Q(recipient=customer)).update(note="")
