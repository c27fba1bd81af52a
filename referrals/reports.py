"""Figures for the staff dashboard: the referral funnel, top referrers, the fraud queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, Sum
from django.utils.translation import gettext_lazy as _

from customers.models import Customer
from referrals.models import Invitation, LinkVisit, Referral


@dataclass(frozen=True)
class FunnelStep:
    key: str
    label: str
    count: int


def funnel(*, start: datetime, end: datetime) -> list[FunnelStep]:
    """The friends reached in [start, end) and how far each got, so that every step is a
    subset of the one before: the invitations sent in the period and the friends who joined
    in it without one (through the link or a partner site); of those, who joined, who bought
    and whose referrer's reward settled, whenever that happened. Opening an email is not
    measured, so it is no step."""

    def between(field: str) -> Q:
        return Q(**{f"{field}__gte": start, f"{field}__lt": end})

    invited = Invitation.objects.filter(between("sent_at")).count()
    cohort = Referral.objects.filter(
        between("invitation__sent_at") | (Q(invitation__isnull=True) & between("created_at"))
    )
    counts = cohort.aggregate(
        joined=Count("pk"),
        uninvited=Count("pk", filter=Q(invitation__isnull=True)),
        bought=Count("pk", filter=Q(qualified_at__isnull=False)),
        rewarded=Count("pk", filter=Q(qualified_at__isnull=False, rewarded_at__isnull=False)),
    )
    return [
        FunnelStep("reached", _("Friends invited or referred"), invited + counts["uninvited"]),
        FunnelStep("joined", _("Friends joined"), counts["joined"]),
        FunnelStep("converted", _("Friends bought"), counts["bought"]),
        FunnelStep("rewarded", _("Rewards settled"), counts["rewarded"]),
    ]


def link_visits(*, start: datetime, end: datetime) -> int:
    """Visits of referral links in the period: visits, not people, so no funnel step."""
    visits = LinkVisit.objects.filter(day__gte=start.date(), day__lt=end.date()).aggregate(
        n=Sum("visits")
    )["n"]
    return visits or 0


def top_referrers(*, start: datetime, end: datetime, limit: int = 10) -> list[tuple[Customer, int]]:
    """Customers whose friends bought most within the period."""
    rows = (
        Referral.objects.filter(qualified_at__gte=start, qualified_at__lt=end)
        .values("referrer")
        .annotate(friends=Count("pk"))
        .order_by("-friends", "referrer")[:limit]
    )
    customers = Customer.objects.select_related("user").in_bulk([row["referrer"] for row in rows])
    return [(customers[row["referrer"]], row["friends"]) for row in rows]


def fraud_queue_size() -> int:
    return Referral.objects.filter(status=Referral.Status.REVIEW).count()
