"""Reads scoped to one partner: a partner sees only the customers linked to it."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import F, QuerySet, Value
from django.db.models.functions import Coalesce

from customers.models import Conversion, Customer
from loyalty.models import Transaction, Voucher
from loyalty.tiers import customer_tier
from partners.models import Partner
from referrals.models import Referral
from referrals.selectors import referrer_code_subquery


def partner_customers(*, partner: Partner) -> QuerySet[Customer]:
    """The customers this partner created or linked, each with `external_id` and points.

    Every endpoint that takes a customer id reads through this queryset, so a
    customer of another partner is simply not found (404).
    """
    return (
        Customer.objects.filter(partner_links__partner=partner)
        .select_related("user")
        .annotate(
            external_id=F("partner_links__external_id"),
            points_balance=Coalesce(F("points_account__settled_balance"), Value(0)),
            points_pending=Coalesce(F("points_account__pending_balance"), Value(0)),
            referred_by=referrer_code_subquery(),
        )
        .order_by("-partner_links__created_at", "-pk")
    )


# A tier is recomputed from a year of ledger history (several aggregates), and changes
# only when points are earned or taken back: partners may read it this many seconds late.
TIER_CACHE_SECONDS = 60


def customer_tier_name(*, customer: Customer) -> str | None:
    """The name of the customer's tier, cached briefly for the API's hottest read."""
    key = f"partners:tier:{customer.public_id}"
    name = cache.get(key)
    if name is None:
        tier = customer_tier(customer=customer)
        name = tier.name if tier else ""
        cache.set(key, name, TIER_CACHE_SECONDS)
    return name or None


def partner_conversions(*, partner: Partner) -> QuerySet[Conversion]:
    """The purchases this partner reported (order ids are unique per partner)."""
    return Conversion.objects.filter(channel=str(partner.public_id)).select_related("customer")


@dataclass(frozen=True)
class ConversionOutcome:
    """A purchase and what it earned: ordinary points and the referral it qualified."""

    conversion: Conversion
    points_earned: int
    referral: Referral | None


def conversion_outcome(*, conversion: Conversion) -> ConversionOutcome:
    """What a recorded purchase earned, read back from the ledger and its referral."""
    first_earn = (
        Transaction.objects.filter(
            kind=Transaction.Kind.EARN, cause="conversion", cause_ref=str(conversion.public_id)
        )
        .order_by("pk")
        .values_list("entries__amount", flat=True)
        .filter(entries__amount__gt=0)
        .first()
    )
    referral = (
        Referral.objects.filter(conversion=conversion)
        .select_related("referrer", "reward_transaction")
        .first()
    )
    return ConversionOutcome(
        conversion=conversion, points_earned=first_earn or 0, referral=referral
    )


def partner_voucher(*, partner: Partner, code: str) -> Voucher | None:
    """The voucher for a code as typed, if its customer is linked to this partner."""
    return (
        Voucher.objects.select_related("reward", "customer")
        .filter(code=Voucher.normalise_code(code), customer__partner_links__partner=partner)
        .first()
    )
