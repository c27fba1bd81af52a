"""Recomputing the ledger from its entries, to prove the cached balances and the sums."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, F, IntegerField, Q, Sum, Value
from django.db.models.functions import Coalesce

from loyalty.models import Account, Entry, Transaction


@dataclass
class AuditReport:
    unbalanced_transactions: list[str] = field(default_factory=list)
    balance_differences: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.unbalanced_transactions and not self.balance_differences


def _summed(status: str):
    return Coalesce(
        Sum("entries__amount", filter=Q(entries__transaction__status=status)),
        Value(0),
        output_field=IntegerField(),
    )


def ledger_audit() -> AuditReport:
    """Check every transaction sums to zero and every customer balance equals its entries."""
    report = AuditReport()
    unbalanced = (
        Entry.objects.values("transaction__public_id")
        .annotate(total=Sum("amount"), sides=Count("id"))
        .filter(~Q(total=0) | Q(sides__lt=2))
    )
    report.unbalanced_transactions = [
        f"transaction {row['transaction__public_id']} sums to {row['total']}" for row in unbalanced
    ]
    report.unbalanced_transactions += [
        f"transaction {public_id} has no entries"
        for public_id in Transaction.objects.filter(entries__isnull=True).values_list(
            "public_id", flat=True
        )
    ]
    accounts = (
        Account.objects.filter(customer__isnull=False)
        .annotate(
            settled_from_entries=_summed(Transaction.Status.POSTED),
            pending_from_entries=_summed(Transaction.Status.PENDING),
        )
        .exclude(
            settled_balance=F("settled_from_entries"),
            pending_balance=F("pending_from_entries"),
        )
    )
    report.balance_differences = [
        f"account {a.pk} (customer {a.customer_id}): settled {a.settled_balance} "
        f"vs {a.settled_from_entries} from entries, pending {a.pending_balance} "
        f"vs {a.pending_from_entries}"
        for a in accounts
    ]
    return report
