"""Reads scoped to one partner: a partner sees only the customers linked to it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db.models import Case, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce

from core.sql import first_compiled_once
from customers.models import Conversion, Customer
from loyalty.models import Entry, Transaction, Voucher
from loyalty.selectors import customer_history
from loyalty.tiers import with_tier_placement
from partners.models import Partner, PartnerCustomer
from referrals.models import Referral
from referrals.selectors import referrer_code_subquery

# Links a partner sees the customer through: a pending one shows only the link itself.
VISIBLE_LINKS = (PartnerCustomer.Status.PENDING, PartnerCustomer.Status.ACTIVE)


def partner_customers(*, partner: Partner) -> QuerySet[Customer]:
    """The customers this partner created or linked, each with `external_id`, `link` (the
    link's status), points and their stored tier placement.

    Every endpoint that takes a customer id reads through this queryset, so a
    customer of another partner, or one whose link ended, is simply not found (404).
    """
    return _customers_of(partner.pk).select_related("user")


def _customers_of(partner_id: int) -> QuerySet[Customer]:
    customers = (
        Customer.objects.filter(
            partner_links__partner_id=partner_id, partner_links__status__in=VISIBLE_LINKS
        )
        .annotate(
            external_id=F("partner_links__external_id"),
            link=F("partner_links__status"),
            user_email=F("user__email"),
            user_first_name=F("user__first_name"),
            user_last_name=F("user__last_name"),
            points_balance=Coalesce(F("points_account__settled_balance"), Value(0)),
            points_pending=Coalesce(F("points_account__pending_balance"), Value(0)),
            referred_by=referrer_code_subquery(),
        )
        .order_by("-partner_links__created_at", "-pk")
    )
    return with_tier_placement(customers)


def _customer_of(*, partner_id: int, public_id: uuid.UUID) -> QuerySet[Customer]:
    # Only what the API shows of the customer's own row; one row, so no order.
    shown = _customers_of(partner_id).only("public_id", "referral_code", "created_at")
    return shown.filter(public_id=public_id).order_by()


def partner_customer(*, partner: Partner, public_id: uuid.UUID) -> Customer | None:
    """One customer linked to this partner, with what `partner_customers` annotates: the
    API's hottest read, so its statement is compiled once per process."""
    return first_compiled_once(_customer_of, partner_id=partner.pk, public_id=public_id)


def _linked_customer_of(*, partner_id: int, public_id: uuid.UUID) -> QuerySet[Customer]:
    return (
        Customer.objects.filter(
            public_id=public_id,
            partner_links__partner_id=partner_id,
            partner_links__status__in=VISIBLE_LINKS,
        )
        .annotate(
            link=F("partner_links__status"),
            referred=Exists(Referral.objects.filter(referee=OuterRef("pk"))),
        )
        .order_by()
    )


def partner_linked_customer(*, partner: Partner, public_id: uuid.UUID) -> Customer | None:
    """One customer linked to this partner, as a plain row (for the writes), with `link`
    (the link's status) and `referred`: whether a referral of them exists, whatever its
    status (a buyer never referred skips the referral's lock). Read on every purchase, so
    its statement is compiled once per process."""
    return first_compiled_once(_linked_customer_of, partner_id=partner.pk, public_id=public_id)


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


def partner_customer_history(*, partner: Partner, customer: Customer) -> QuerySet[Entry]:
    """The customer's ledger history as this partner may read it, newest first, with
    `shown_memo`: an own site reads every memo; a merchant reads its own transactions'
    (its purchases, its awards) and every other movement without memo, so it never
    learns what the member bought elsewhere."""
    history = customer_history(customer=customer)
    if partner.kind == Partner.Kind.OWN:
        return history.annotate(shown_memo=F("transaction__memo"))
    orders = [
        str(public_id)
        for public_id in Conversion.objects.filter(
            customer=customer, channel=str(partner.public_id)
        ).values_list("public_id", flat=True)
    ]
    mine = Q(transaction__cause="partner", transaction__cause_ref=str(partner.public_id)) | Q(
        transaction__cause="conversion", transaction__cause_ref__in=orders
    )
    return history.annotate(
        shown_memo=Case(When(mine, then=F("transaction__memo")), default=Value(""))
    )


def partner_voucher(*, partner: Partner, code: str) -> Voucher | None:
    """The voucher for a code as typed, if its customer is linked to this partner."""
    return (
        Voucher.objects.select_related("reward", "customer")
        .filter(
            code=Voucher.normalise_code(code),
            customer__partner_links__partner=partner,
            customer__partner_links__status=PartnerCustomer.Status.ACTIVE,
        )
        .first()
    )
