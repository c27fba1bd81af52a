"""Figures for the staff dashboard: how points flow, day by day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Q, Sum
from django.db.models.functions import TruncDate

from loyalty.models import Account, Entry, Transaction

# Accounts whose debits are points given to customers, and sinks that take points back.
SOURCES = (
    Account.System.POINTS_ISSUED,
    Account.System.REFERRAL_EXPENSE,
    Account.System.GIFTS,
    Account.System.ADJUSTMENTS,
)


@dataclass(frozen=True)
class PointsDay:
    day: date
    issued: int = 0
    pending: int = 0
    redeemed: int = 0
    expired: int = 0
    written_off: int = 0


def points_by_day(*, start: datetime, end: datetime) -> list[PointsDay]:
    """Points issued, put on hold, redeemed, expired and written off per day in [start, end)."""
    posted = (
        Entry.objects.filter(
            transaction__status=Transaction.Status.POSTED,
            transaction__posted_at__gte=start,
            transaction__posted_at__lt=end,
            account__system_code__isnull=False,
        )
        .annotate(day=TruncDate("transaction__posted_at"))
        .values("day", "account__system_code")
        .annotate(total=Sum("amount"))
    )
    held = (
        Entry.objects.filter(
            transaction__status=Transaction.Status.PENDING,
            transaction__created_at__gte=start,
            transaction__created_at__lt=end,
            account__customer__isnull=False,
            amount__gt=0,
        )
        .annotate(day=TruncDate("transaction__created_at"))
        .values("day")
        .annotate(total=Sum("amount"))
    )
    days: dict[date, dict[str, int]] = {}
    for row in posted:
        figures = days.setdefault(row["day"], {})
        code, total = row["account__system_code"], row["total"]
        if code in SOURCES:
            figures["issued"] = figures.get("issued", 0) - total
        elif code == Account.System.REDEMPTIONS:
            figures["redeemed"] = figures.get("redeemed", 0) + total
        elif code == Account.System.EXPIRY:
            figures["expired"] = figures.get("expired", 0) + total
        elif code == Account.System.WRITE_OFF:
            figures["written_off"] = figures.get("written_off", 0) - total
    for row in held:
        days.setdefault(row["day"], {})["pending"] = row["total"]
    return [PointsDay(day=day, **figures) for day, figures in sorted(days.items())]


def points_outstanding() -> dict[str, int]:
    """What customers hold right now: settled and still on hold."""
    totals = Account.objects.filter(~Q(customer=None)).aggregate(
        settled=Sum("settled_balance"), pending=Sum("pending_balance")
    )
    return {name: value or 0 for name, value in totals.items()}
