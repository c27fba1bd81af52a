"""Figures for the staff dashboard: the referral funnel, top referrers, the fraud queue,
introductions by stage and contact person and their time to a first reply."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from django.db.models import Count, Q, Sum
from django.utils.translation import gettext_lazy as _

from customers.models import Customer
from referrals.models import Introduction, Invitation, LinkVisit, Referral


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


@dataclass(frozen=True)
class IntroductionFigures:
    by_stage: list[tuple[str, int]]
    # (contact person's name, introductions, of which won)
    by_contact: list[tuple[str, int, int]]
    # Hours between the friend's yes and the first move by staff: median and the slowest.
    first_reply_median_hours: float | None
    first_reply_max_hours: float | None
    waiting_for_reply: int


def introduction_figures(*, start: datetime, end: datetime) -> IntroductionFigures:
    """Introductions made in [start, end): how many are in each status, per contact
    person, and how long staff took to first move those the friend said yes to."""
    made = Introduction.objects.filter(created_at__gte=start, created_at__lt=end)
    counts = dict(made.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    by_stage = [(label, counts.get(value, 0)) for value, label in Introduction.Status.choices]
    by_contact = [
        (row["contact_person__name"], row["n"], row["won"])
        for row in made.values("contact_person__name")
        .annotate(n=Count("pk"), won=Count("pk", filter=Q(status=Introduction.Status.WON)))
        .order_by("-n", "contact_person__name")
    ]
    replies = [
        replied - answered
        for answered, replied in made.filter(
            answered_at__isnull=False, first_reply_at__isnull=False
        ).values_list("answered_at", "first_reply_at")
    ]
    return IntroductionFigures(
        by_stage=by_stage,
        by_contact=by_contact,
        first_reply_median_hours=_hours(median(replies)) if replies else None,
        first_reply_max_hours=_hours(max(replies)) if replies else None,
        waiting_for_reply=made.filter(
            status=Introduction.Status.NEW, first_reply_at__isnull=True
        ).count(),
    )


def _hours(duration: timedelta) -> float:
    return round(duration.total_seconds() / 3600, 1)
