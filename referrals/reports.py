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
    """Each step counted by when it happened within [start, end)."""

    def between(field: str) -> Q:
        return Q(**{f"{field}__gte": start, f"{field}__lt": end})

    invitations = Invitation.objects.aggregate(
        sent=Count("pk", filter=between("sent_at")),
        opened=Count("pk", filter=between("opened_at")),
        accepted=Count("pk", filter=between("accepted_at")),
    )
    referrals = Referral.objects.aggregate(
        joined=Count("pk", filter=between("created_at")),
        converted=Count("pk", filter=between("qualified_at")),
        rewarded=Count("pk", filter=between("rewarded_at")),
    )
    visits = LinkVisit.objects.filter(day__gte=start.date(), day__lt=end.date()).aggregate(
        n=Sum("visits")
    )["n"]
    return [
        FunnelStep("visits", _("Link visits"), visits or 0),
        FunnelStep("sent", _("Invitations sent"), invitations["sent"]),
        FunnelStep("opened", _("Invitations opened"), invitations["opened"]),
        FunnelStep("accepted", _("Invitations accepted"), invitations["accepted"]),
        FunnelStep("joined", _("Friends joined"), referrals["joined"]),
        FunnelStep("converted", _("Friends bought"), referrals["converted"]),
        FunnelStep("rewarded", _("Rewards settled"), referrals["rewarded"]),
    ]


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
