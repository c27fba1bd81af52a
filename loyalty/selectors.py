"""Reads of the ledger that pages and the partner API share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case, OuterRef, Q, QuerySet, Subquery, When
from django.utils import timezone

from core.sql import first_compiled_once
from customers.models import Customer
from loyalty.models import Account, Entry, Reward, Transaction, Voucher

# Pages cache what they show of a customer's ledger under `Balance.version`, so a change
# shows at once; this bounds what changes with time alone (the tier's twelve months, names).
LEDGER_FRAGMENT_SECONDS = 3600


@dataclass(frozen=True)
class Balance:
    settled: int
    pending: int
    next_settles_at: datetime | None = None
    # When a posting last changed the account: with the two balances, a version of the
    # customer's ledger that pages key their cached fragments on.
    changed_at: datetime | None = None

    @property
    def version(self) -> str:
        """Changes whenever a posting, settlement, void or new settlement date does."""
        stamps = (self.changed_at, self.next_settles_at)
        return ":".join(
            [str(self.settled), str(self.pending)]
            + [stamp.isoformat() if stamp else "" for stamp in stamps]
        )


def balance(*, customer: Customer) -> Balance:
    """One row read: the cached balances kept by the ledger."""
    row = Account.objects.filter(customer=customer).values("settled_balance", "pending_balance")
    found = row.first()
    if found is None:
        return Balance(settled=0, pending=0)
    return Balance(settled=found["settled_balance"], pending=found["pending_balance"])


def _balance_with_next_settlement(customer_id: int) -> QuerySet[Account]:
    pending = Transaction.objects.filter(
        status=Transaction.Status.PENDING, entries__account=OuterRef("pk")
    )
    first_due = Subquery(pending.order_by("settles_at").values("settles_at")[:1])
    return (
        Account.objects.filter(customer_id=customer_id)
        .only("settled_balance", "pending_balance", "last_activity_at")
        # Asked only of an account with pending points (CASE skips the subquery otherwise).
        .annotate(next_settles_at=Case(When(pending_balance__gt=0, then=first_due)))
    )


def balance_with_next_settlement(*, customer: Customer) -> Balance:
    """The balance and when the earliest pending points settle (for the customer's pages),
    in one read of the account row, by a statement compiled once per process (every
    portal page of points reads it, and compiling it costs more than running it)."""
    found = first_compiled_once(_balance_with_next_settlement, customer_id=customer.pk)
    if found is None:
        return Balance(settled=0, pending=0)
    return Balance(
        settled=found.settled_balance,
        pending=found.pending_balance,
        next_settles_at=found.next_settles_at,
        changed_at=found.last_activity_at,
    )


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
