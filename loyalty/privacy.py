"""The loyalty app's part of a customer's data export (see customers.signals)."""

from __future__ import annotations

from django.dispatch import receiver

from customers.models import Customer
from customers.privacy import DataSection
from customers.signals import personal_data_collect
from loyalty.models import Account, Redemption, Transaction, Voucher
from loyalty.selectors import balance, customer_history


@receiver(personal_data_collect, dispatch_uid="loyalty.points_section")
def points_section(sender, *, customer: Customer, **kwargs) -> DataSection:
    current = balance(customer=customer)
    return DataSection(
        name="points",
        models=(Account, Transaction, Redemption, Voucher),
        records={
            "balance": {"settled": current.settled, "pending": current.pending},
            "history": [
                {
                    "kind": entry.transaction.kind,
                    "status": entry.transaction.status,
                    "points": entry.amount,
                    "memo": entry.transaction.memo,
                    "created_at": entry.transaction.created_at,
                    "settles_at": entry.transaction.settles_at,
                }
                for entry in customer_history(customer=customer)
            ],
            "redemptions": list(
                Redemption.objects.filter(customer=customer).values(
                    "reward__name", "points_spent", "created_at"
                )
            ),
            "vouchers": list(
                Voucher.objects.filter(customer=customer).values(
                    "code", "reward__name", "status", "expires_at", "used_at"
                )
            ),
        },
    )
