"""Tiers: where a customer stands, by purchase points earned in 12 months or successful referrals.

Both counts are read from the ledger, so a refund that voids or reverses
earned points, or a reversed referral reward, unwinds the tier standing too.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.db import transaction as db_transaction
from django.db.models import (
    BigIntegerField,
    BooleanField,
    ExpressionWrapper,
    F,
    Func,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Now
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from core.process_cache import cached_rows, forget_on_change
from core.sql import row_locked
from customers.models import Customer
from loyalty.ledger import customer_account
from loyalty.models import Account, Entry, Tier, TierListVersion, Transaction

TIER_WINDOW = timedelta(days=365)
# Staff edits of the tiers hold at once in the process that saved them and within this
# many seconds in every other.
TIERS_CACHE_SECONDS = 10
_TIERS_KEY = "loyalty:tiers"
forget_on_change(Tier, _TIERS_KEY)
# A stored placement is trusted this long without a posting to the account (postings clear
# it at once): points leave the 12-month window with the passing of time alone.
PLACEMENT_FRESH = timedelta(hours=1)
# The tier list is one row per tier plus this one row's counter.
_VERSION_PK = 1


@dataclass(frozen=True)
class TierStanding:
    points: int
    referrals: int


@dataclass(frozen=True)
class TierProgress:
    tier: Tier | None
    next_tier: Tier | None
    points: int
    referrals: int
    points_to_next: int
    referrals_to_next: int | None
    percent: int


def _scalar(rows: QuerySet, aggregate: Func) -> Subquery:
    """`aggregate` over all of `rows` as a subquery (a plain function: no GROUP BY)."""
    return Subquery(rows.order_by().annotate(value=aggregate).values("value"))


def _sum(field: str) -> Func:
    return Func(F(field), function="SUM", output_field=BigIntegerField())


def _count_distinct(field: str) -> Func:
    return Func(
        F(field), template="COUNT(DISTINCT %(expressions)s)", output_field=BigIntegerField()
    )


def tier_standing(*, customer: Customer, now: datetime | None = None) -> TierStanding:
    """Purchase points kept (earned minus taken back) in the last 12 months, and referrals."""
    since = (now or timezone.now()) - TIER_WINDOW
    earned = Transaction.objects.filter(
        kind=Transaction.Kind.EARN, created_at__gte=since, entries__account__customer=customer
    ).exclude(status=Transaction.Status.VOIDED)
    credited = Entry.objects.filter(transaction__in=earned, account__customer=customer)
    # A reversal credits the full amount back to the system side, also where
    # part of it was written off, so that side says how much was unwound.
    unwound = Entry.objects.filter(transaction__reverses__in=earned, amount__gt=0)
    referrals = Transaction.objects.filter(
        kind=Transaction.Kind.REFERRAL_REWARD,
        status=Transaction.Status.POSTED,
        entries__account__customer=customer,
        entries__amount__gt=0,
        reversals__isnull=True,
    )
    # The three counts in one statement: one round trip instead of three.
    row = (
        Customer.objects.filter(pk=customer.pk)
        .values(
            credited=_scalar(credited, _sum("amount")),
            unwound=_scalar(unwound, _sum("amount")),
            referrals=_scalar(referrals, _count_distinct("pk")),
        )
        .get()
    )
    return TierStanding(
        points=(row["credited"] or 0) - (row["unwound"] or 0), referrals=row["referrals"] or 0
    )


@dataclass(frozen=True)
class TierList:
    """Every tier, lowest first, and the version of the list they were read at."""

    version: int
    tiers: list[Tier]


def _current_version() -> Coalesce:
    """The tier list's version as an expression (0 until a tier is first changed)."""
    row = TierListVersion.objects.filter(pk=_VERSION_PK).values("version")
    return Coalesce(Subquery(row), Value(0), output_field=BigIntegerField())


def _read_tier_list() -> TierList:
    # The version first: a tier saved between the two reads leaves an older version beside
    # the newer list, which only makes the placement stored with it look stale.
    version = TierListVersion.objects.filter(pk=_VERSION_PK).values_list("version", flat=True)
    return TierList(
        version=version.first() or 0, tiers=list(Tier.objects.order_by("min_points", "pk"))
    )


def tier_list(*, fresh: bool = False) -> TierList:
    """Every tier and the list's version; `fresh` skips the process cache (for a placement
    that is stored for an hour, which must not carry a few seconds' staleness along)."""
    if fresh:
        return _read_tier_list()
    return cached_rows(_TIERS_KEY, _read_tier_list, seconds=TIERS_CACHE_SECONDS)


def tiers(*, fresh: bool = False) -> list[Tier]:
    """Every tier, lowest first (see `tier_list`)."""
    return tier_list(fresh=fresh).tiers


def _reaches(tier: Tier, standing: TierStanding) -> bool:
    by_referrals = tier.min_referrals is not None and standing.referrals >= tier.min_referrals
    return standing.points >= tier.min_points or by_referrals


def _placement(customer: Customer) -> tuple[Tier | None, Tier | None, TierStanding]:
    standing = tier_standing(customer=customer)
    current, following = _reached(standing, tiers())
    return current, following, standing


def _reached(standing: TierStanding, tier_list: list[Tier]) -> tuple[Tier | None, Tier | None]:
    """The highest tier the standing reaches, and the next one above it."""
    current, following = None, None
    for tier in tier_list:
        if _reaches(tier, standing):
            current, following = tier, None
        elif following is None:
            following = tier
    return current, following


def customer_tier(*, customer: Customer) -> Tier | None:
    """The highest tier the customer reaches; None only when staff removed every tier."""
    return _placement(customer)[0]


def _fresh_placement(account: str = "") -> Q:
    """Where the stored placement of an account (reached through `account`) is still true:
    within its time, and made from the tier list as it is now (the database's clock, so a
    compiled statement stays true: core/sql.py's `first_compiled_once`)."""
    return Q(
        **{
            f"{account}tier_fresh_until__gt": Now(),
            f"{account}tier_list_version": _current_version(),
        }
    )


def customer_tier_placed(*, customer: Customer) -> Tier | None:
    """`customer_tier` for reads: the placement stored on the account while it is fresh (one
    indexed read instead of a year of ledger aggregates), placed again otherwise."""
    stored = Account.objects.select_related("tier").filter(_fresh_placement(), customer=customer)
    stored = stored.first()
    if stored is not None:
        return stored.tier
    return tier_place(customer=customer)


def with_tier_placement(customers: QuerySet[Customer]) -> QuerySet[Customer]:
    """`customers` with their stored placement read along, so that `customer_tier_name`
    costs no query for a customer whose placement is fresh."""
    return customers.annotate(
        placed_tier_name=F("points_account__tier__name"),
        placed_tier_fresh=ExpressionWrapper(
            _fresh_placement("points_account__"), output_field=BooleanField()
        ),
    )


def customer_tier_name(*, customer: Customer) -> str | None:
    """The name of the customer's tier for readers: the placement that
    `with_tier_placement` read along while it is fresh, placed again otherwise."""
    if getattr(customer, "placed_tier_fresh", False):
        return customer.placed_tier_name
    tier = customer_tier_placed(customer=customer)
    return tier.name if tier else None


def tier_place(*, customer: Customer) -> Tier | None:
    """Place the customer from the ledger and store it on their account (made if missing)."""
    with db_transaction.atomic():
        return tier_placement_for_update(customer=customer).tier


@dataclass(frozen=True)
class Placement:
    """A customer's tier and the standing it was placed from, as stored on their account."""

    account: Account
    tier: Tier | None
    standing: TierStanding
    fresh_until: datetime
    # The fewest points reaching a tier this placement does not reach (None: no such tier).
    next_points: int | None
    # The tier list's version the tier and `next_points` were read from.
    tier_list_version: int

    def columns(self) -> dict:
        """The account columns that store this placement."""
        return {
            "tier_id": self.tier.pk if self.tier else None,
            "tier_points": self.standing.points,
            "tier_referrals": self.standing.referrals,
            "tier_fresh_until": self.fresh_until,
            "tier_next_points": self.next_points,
            "tier_list_version": self.tier_list_version,
        }


def _placed(standing: TierStanding) -> tuple[Tier | None, int | None, int]:
    """The tier a placement stores, its `next_points` and the tier list's version, from the
    list read afresh (a placement is trusted an hour: no cache's seconds carried along)."""
    current = tier_list(fresh=True)
    tier, _following = _reached(standing, current.tiers)
    unreached = [tier.min_points for tier in current.tiers if not _reaches(tier, standing)]
    return tier, min(unreached, default=None), current.version


def _locked_account(customer: Customer) -> Account | None:
    return row_locked(Account, "customer_id", customer.pk)


def _tier(tier_id: int | None) -> Tier | None:
    """A stored placement's tier from the cached list (staff edits hold within
    TIERS_CACHE_SECONDS, as for the earn rule); read afresh if the list lacks it."""
    if tier_id is None:
        return None
    cached = next((tier for tier in tiers() if tier.pk == tier_id), None)
    return cached or next((tier for tier in tiers(fresh=True) if tier.pk == tier_id), None)


def tier_placement_for_update(*, customer: Customer) -> Placement:
    """Inside a transaction: lock the customer's account (made if missing) and return its
    placement, placed again from the ledger when stale.

    Postings update the account row, so while the lock is held none can commit: a placement
    read here stays true until the caller's own posting (see `tier_placement_earned`).
    """
    account = _locked_account(customer)
    if account is None:
        customer_account(customer)
        account = _locked_account(customer)
    now = timezone.now()
    # The cached list's version, as for the earn rule: a tier saved holds here within
    # TIERS_CACHE_SECONDS in other processes.
    fresh = account.tier_fresh_until is not None and account.tier_fresh_until > now
    if fresh and account.tier_list_version == tier_list().version:
        standing = TierStanding(points=account.tier_points, referrals=account.tier_referrals)
        return Placement(
            account,
            _tier(account.tier_id),
            standing,
            account.tier_fresh_until,
            account.tier_next_points,
            account.tier_list_version,
        )
    standing = tier_standing(customer=customer)
    tier, next_points, version = _placed(standing)
    placement = Placement(account, tier, standing, now + PLACEMENT_FRESH, next_points, version)
    Account.objects.filter(pk=account.pk).update(**placement.columns())
    return placement


def tier_placement_earned(*, placement: Placement, points: int) -> Placement:
    """The placement once `points` of purchase points are posted under the lock that
    `tier_placement_for_update` took: the standing grows by exactly those points, so the
    caller stores this with its posting instead of leaving the next reader a year of ledger
    to add up again. Below `next_points` the tier stays and the tier list is not read."""
    standing = TierStanding(
        points=placement.standing.points + points, referrals=placement.standing.referrals
    )
    if placement.next_points is None or standing.points < placement.next_points:
        return replace(placement, standing=standing)
    tier, next_points, version = _placed(standing)
    return replace(
        placement, tier=tier, standing=standing, next_points=next_points, tier_list_version=version
    )


@receiver([post_save, post_delete], sender=Tier, dispatch_uid="loyalty.tiers_changed")
def _tiers_changed(sender, **kwargs) -> None:
    """Staff changed the tiers: a new version of the list, so every stored placement (made
    from an older one) is placed again on its next read; no account is written."""
    TierListVersion.objects.get_or_create(pk=_VERSION_PK)
    TierListVersion.objects.filter(pk=_VERSION_PK).update(version=F("version") + 1)


def _standing_placed(customer: Customer) -> TierStanding:
    """The standing the customer's stored placement was made from while it is fresh (one
    indexed read instead of a year of ledger aggregates), placed and stored again otherwise."""
    stored = (
        Account.objects.filter(_fresh_placement(), customer=customer)
        .values_list("tier_points", "tier_referrals")
        .first()
    )
    if stored is not None:
        return TierStanding(points=stored[0], referrals=stored[1])
    with db_transaction.atomic():
        return tier_placement_for_update(customer=customer).standing


def _progress(current: Tier | None, following: Tier | None, standing: TierStanding) -> TierProgress:
    if following is None:
        return TierProgress(current, None, standing.points, standing.referrals, 0, None, 100)
    points_to_next = max(following.min_points - standing.points, 0)
    percent = standing.points * 100 // following.min_points if following.min_points else 100
    referrals_to_next = None
    if following.min_referrals:
        referrals_to_next = max(following.min_referrals - standing.referrals, 0)
        percent = max(percent, standing.referrals * 100 // following.min_referrals)
    return TierProgress(
        tier=current,
        next_tier=following,
        points=standing.points,
        referrals=standing.referrals,
        points_to_next=points_to_next,
        referrals_to_next=referrals_to_next,
        percent=min(percent, 99),
    )


def tier_progress(*, customer: Customer) -> TierProgress:
    """The customer's tier, the next one, and how far along they are (for a progress bar)."""
    standing = _standing_placed(customer)
    return _progress(*_reached(standing, tiers()), standing)


def tier_progress_placed(*, customer: Customer, account: Account | None) -> TierProgress:
    """`tier_progress` from the standing stored on the customer's `account` (read along by
    the caller) while its placement is fresh, so a frequent read adds no ledger aggregate;
    placed again otherwise."""
    fresh = (
        account is not None
        and account.tier_fresh_until is not None
        and account.tier_fresh_until > timezone.now()
    )
    listed = tier_list()
    if fresh and account.tier_list_version == listed.version:
        standing = TierStanding(points=account.tier_points, referrals=account.tier_referrals)
        return _progress(*_reached(standing, listed.tiers), standing)
    return tier_progress(customer=customer)
