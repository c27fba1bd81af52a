"""Reads scoped to one partner: a partner sees only the customers linked to it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import connection
from django.db.models import BooleanField, Case, ExpressionWrapper, F, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from customers.models import Conversion, Customer, User
from customers.sql import select_one
from loyalty.models import Account, Entry, Tier, Transaction, Voucher
from loyalty.selectors import customer_history
from loyalty.tiers import customer_tier_placed
from partners.models import Partner, PartnerCustomer
from referrals.models import Referral
from referrals.selectors import referrer_code_subquery

# Links a partner sees the customer through: a pending one shows only the link itself.
VISIBLE_LINKS = (PartnerCustomer.Status.PENDING, PartnerCustomer.Status.ACTIVE)


def partner_customers(*, partner: Partner) -> QuerySet[Customer]:
    """The customers this partner created or linked, each with `external_id`, `link` (the
    link's status) and points.

    Every endpoint that takes a customer id reads through this queryset, so a
    customer of another partner, or one whose link ended, is simply not found (404).
    """
    return (
        Customer.objects.filter(
            partner_links__partner=partner, partner_links__status__in=VISIBLE_LINKS
        )
        .select_related("user")
        .annotate(
            external_id=F("partner_links__external_id"),
            link=F("partner_links__status"),
            user_email=F("user__email"),
            user_first_name=F("user__first_name"),
            user_last_name=F("user__last_name"),
            points_balance=Coalesce(F("points_account__settled_balance"), Value(0)),
            points_pending=Coalesce(F("points_account__pending_balance"), Value(0)),
            tier_name=F("points_account__tier__name"),
            tier_fresh=ExpressionWrapper(
                Q(points_account__tier_fresh_until__gt=timezone.now()),
                output_field=BooleanField(),
            ),
            referred_by=referrer_code_subquery(),
        )
        .order_by("-partner_links__created_at", "-pk")
    )


# The API's hottest read (GET customers/{id}/) as one statement written out: compiling
# `partner_customers` takes the ORM longer (about a millisecond) than PostgreSQL takes to
# answer. tests/partners/test_selectors.py holds both to the same answers.
CUSTOMER_FROM = f"""
  FROM {PartnerCustomer._meta.db_table} link
  JOIN {Customer._meta.db_table} customer ON customer.id = link.customer_id
  JOIN {User._meta.db_table} account_user ON account_user.id = customer.user_id
  LEFT JOIN {Account._meta.db_table} account ON account.customer_id = customer.id
  LEFT JOIN {Tier._meta.db_table} tier ON tier.id = account.tier_id
 WHERE link.partner_id = %s AND customer.public_id = %s AND link.status <> %s
"""
CUSTOMER_COLUMNS = ("public_id", "referral_code", "created_at")
CUSTOMER_ANNOTATIONS = {
    "external_id": "link.external_id",
    "link": "link.status",
    "user_email": "account_user.email",
    "user_first_name": "account_user.first_name",
    "user_last_name": "account_user.last_name",
    "points_balance": "COALESCE(account.settled_balance, 0)",
    "points_pending": "COALESCE(account.pending_balance, 0)",
    "tier_name": "tier.name",
    "tier_fresh": "account.tier_fresh_until > %s",
    "referred_by": f"""(SELECT referrer.referral_code
          FROM {Referral._meta.db_table} referral
          JOIN {Customer._meta.db_table} referrer ON referrer.id = referral.referrer_id
         WHERE referral.referee_id = customer.id AND referral.status <> %s)""",  # noqa: S608
}


def partner_customer(*, partner: Partner, public_id: uuid.UUID) -> Customer | None:
    """One customer linked to this partner, with what `partner_customers` annotates."""
    public_id_param = Customer._meta.get_field("public_id").get_db_prep_value(public_id, connection)
    now = Account._meta.get_field("tier_fresh_until").get_db_prep_value(timezone.now(), connection)
    return select_one(
        Customer,
        CUSTOMER_FROM,
        [now, Referral.Status.REJECTED, partner.pk, public_id_param, PartnerCustomer.Status.ENDED],
        alias="customer",
        only=CUSTOMER_COLUMNS,
        extra=CUSTOMER_ANNOTATIONS,
    )


# A purchase's buyer, read on every POST conversions/: written out for the same reason.
LINKED_CUSTOMER_FROM = f"""
  FROM {PartnerCustomer._meta.db_table} link
  JOIN {Customer._meta.db_table} customer ON customer.id = link.customer_id
 WHERE link.partner_id = %s AND customer.public_id = %s AND link.status <> %s
"""


# Whether the buyer was referred at all, read with the buyer: most were not, and their
# purchase then skips the referral's lock.
REFERRED = f"""EXISTS (
  SELECT 1 FROM {Referral._meta.db_table} referral WHERE referral.referee_id = customer.id
)"""  # noqa: S608 (a table name from the model's metadata)


def partner_linked_customer(*, partner: Partner, public_id: uuid.UUID) -> Customer | None:
    """One customer linked to this partner, as a plain row (for the writes), with
    `referred`: whether a referral of them exists, whatever its status, and `link`."""
    public_id_param = Customer._meta.get_field("public_id").get_db_prep_value(public_id, connection)
    return select_one(
        Customer,
        LINKED_CUSTOMER_FROM,
        [partner.pk, public_id_param, PartnerCustomer.Status.ENDED],
        alias="customer",
        extra={"referred": REFERRED, "link": "link.status"},
    )


def customer_tier_name(*, customer: Customer) -> str | None:
    """The name of the customer's tier: the stored placement that `partner_customers` and
    `partner_customer` read along, unless it is stale (then placed again)."""
    if getattr(customer, "tier_fresh", False):
        return customer.tier_name
    tier = customer_tier_placed(customer=customer)
    return tier.name if tier else None


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
