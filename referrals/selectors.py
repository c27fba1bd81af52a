"""Reads of referral programs, codes and invitations that pages and the partner API share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from core.process_cache import cached_rows, forget_on_change
from customers.models import Customer
from referrals.models import Introduction, Invitation, LinkVisit, Referral, ReferralProgram


def program_active(*, at: datetime | None = None) -> ReferralProgram | None:
    """The program that is switched on and within its dates, if any."""
    at = at or timezone.now()
    return (
        ReferralProgram.objects.filter(is_active=True, starts_at__lte=at)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=at))
        .first()
    )


def referrer_by_code(*, code: str) -> Customer | None:
    """The customer whose referral code this is (any case); None if unknown or inactive."""
    code = (code or "").strip().upper()
    if not code:
        return None
    return (
        Customer.objects.select_related("user")
        .filter(referral_code=code, user__is_active=True)
        .first()
    )


FRIEND_OFFER_KEY = "referrals:friend-offer"
# Pages and emails show the offer from each process's cache: a staff edit shows at once in
# the process that saved it and within this many seconds in the others, as does a program's
# start or end.
FRIEND_OFFER_CACHE_SECONDS = 10
forget_on_change(ReferralProgram, FRIEND_OFFER_KEY)


def _active_friend_offer() -> str:
    program = program_active()
    return program.friend_offer if program else ""


def friend_offer() -> str:
    """The text of the friend's welcome gift under the active program ("" when none runs)."""
    return cached_rows(FRIEND_OFFER_KEY, _active_friend_offer, seconds=FRIEND_OFFER_CACHE_SECONDS)


def referrer_code_subquery(customer_field: str = "pk") -> Subquery:
    """For annotating customers: the code of who referred each, None if nobody (or fraud
    rules refused the referral); lists of customers read it without a query per row."""
    return Subquery(
        Referral.objects.filter(referee=OuterRef(customer_field))
        .exclude(status=Referral.Status.REJECTED)
        .values("referrer__referral_code")[:1]
    )


def invitations_of(*, customer: Customer) -> QuerySet[Invitation]:
    return Invitation.objects.filter(sender=customer).order_by("-created_at")


@dataclass(frozen=True)
class Funnel:
    visits: int
    invitations: int
    signups: int
    qualified: int


def referral_funnel(*, customer: Customer) -> Funnel:
    """Link visits, invitations sent, friends who joined and friends who qualified."""
    referrals = Referral.objects.filter(referrer=customer)
    return Funnel(
        visits=LinkVisit.objects.filter(referrer=customer).aggregate(n=Sum("visits"))["n"] or 0,
        invitations=Invitation.objects.filter(sender=customer).count(),
        signups=referrals.exclude(status=Referral.Status.REJECTED).count(),
        qualified=referrals.filter(
            status__in=[Referral.Status.QUALIFIED, Referral.Status.REWARDED]
        ).count(),
    )


def introductions_of(*, customer: Customer) -> QuerySet[Introduction]:
    """The customer's introductions, newest first, with what their page shows of each."""
    return (
        Introduction.objects.filter(introducer=customer)
        .select_related("contact_person", "reward_transaction", "reward_voucher__reward")
        .annotate(reward_points=Max("reward_transaction__entries__amount"))
        .order_by("-created_at")
    )
