"""Reads of the ledger that pages and the partner API share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Min, Q, QuerySet
from django.utils import timezone

from customers.models import Customer
from loyalty.models import Account, Entry, Reward, Transaction, Voucher


@dataclass(frozen=True)
class Balance:
    settled: int
    pending: int
    next_settles_at: datetime | None = None


def balance(*, customer: Customer) -> Balance:
    """One row read: the cached balances kept by the ledger."""
    row = Account.objects.filter(customer=customer).values("settled_balance", "pending_balance")
    found = row.first()
    if found is None:
        return Balance(settled=0, pending=0)
    return Balance(settled=found["settled_balance"], pending=found["pending_balance"])


def balance_with_next_settlement(*, customer: Customer) -> Balance:
    """The balance and when the earliest pending points settle (for the customer's page)."""
    current = balance(customer=customer)
    if not current.pending:
        return current
    next_at = Transaction.objects.filter(
        status=Transaction.Status.PENDING, entries__account__customer=customer
    ).aggregate(first=Min("settles_at"))["first"]
    return Balance(settled=current.settled, pending=current.pending, next_settles_at=next_at)


def customer_history(*, customer: Customer) -> QuerySet[Entry]:
    """The customer's side of each transaction, newest first (`amount` signed for them)."""
    return (
        Entry.objects.filter(account__customer=customer)
        .select_related("transaction")
        .order_by("-transaction__created_at", "-transaction_id")
    )


def active_rewards(*, now: datetime | None = None) -> QuerySet[Reward]:
    """The catalog as customers and partners see it: active, in date, in stock."""
    now = now or timezone.now()
    return Reward.objects.filter(
        Q(is_active=True)
        & (Q(active_from__isnull=True) | Q(active_from__lte=now))
        & (Q(active_until__isnull=True) | Q(active_until__gt=now))
        & (Q(stock__isnull=True) | Q(stock__gt=0))
    )


def voucher_by_code(code: str) -> Voucher | None:
    """The voucher for a code as typed (any case, spaces or dashes), or None."""
    return (
        Voucher.objects.select_related("reward", "customer__user")
        .filter(code=Voucher.normalise_code(code))
        .first()
    )


def customer_vouchers(customer: Customer) -> QuerySet[Voucher]:
    """The customer's vouchers, newest first."""
    return Voucher.objects.filter(customer=customer).select_related("reward")
