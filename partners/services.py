"""Every write the partner API makes: partners and keys, customer links, and the
orchestration of the lower apps' services behind each endpoint."""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction

from core.db import transient_retry
from customers.conversions import RefundTooLarge, conversion_record, conversion_refund
from customers.models import Conversion, Customer, DataExport
from customers.privacy import customer_erase, data_export_request
from customers.selectors import customer_by_email
from customers.services import user_create
from loyalty.earning import conversion_earn, conversion_unwind
from loyalty.ledger import credited_points, points_award
from loyalty.models import Redemption, Reward, Transaction, Voucher
from loyalty.vouchers import reward_redeem, voucher_use
from partners.links import customer_link, link_end, link_held_until
from partners.models import Partner, PartnerAPIKey, PartnerCustomer
from partners.selectors import ConversionOutcome, conversion_outcome
from referrals.selectors import referrer_by_code
from referrals.services import (
    UnknownReferralCode,
    referral_attribute,
    referral_conversion_qualify,
    referral_conversion_refund,
)
from reviews.surveys import survey_schedule


class StaffAccount(Exception):
    """A staff member's account is never erased through the API."""

    code = "staff_account"


class LinkPending(Exception):
    """The person has not said yes to the merchant's link yet."""

    code = "link_pending"


def partner_create(
    *, name: str, webhook_url: str = "", kind: str = Partner.Kind.MERCHANT
) -> tuple[Partner, str]:
    """A new partner with its first API key; the key is returned once and stored hashed."""
    with transaction.atomic():
        partner = Partner.objects.create(name=name, webhook_url=webhook_url, kind=kind)
        _api_key, key = partner_api_key_create(partner=partner, name="default")
    return partner, key


def partner_api_key_create(*, partner: Partner, name: str) -> tuple[PartnerAPIKey, str]:
    return PartnerAPIKey.objects.create_key(partner=partner, name=name)


@transient_retry
def partner_customer_upsert(
    *,
    partner: Partner,
    external_id: str,
    email: str,
    first_name: str = "",
    last_name: str = "",
    referral_code: str = "",
    language: str = "",
) -> tuple[Customer, PartnerCustomer, bool]:
    """Create a customer (with a portal account) or link the one who owns the email.

    Returns the customer, the partner's link and whether the customer was created. An own
    site's link is active at once; a merchant's waits for the person's yes (see
    `partners.links`). A new customer is attributed to the owner of `referral_code`
    (`UnknownReferralCode` before anything is written); an existing one keeps their
    attribution and language. Two partners creating the same email at once both end with one
    customer: the loser of the race on the unique email links the winner's customer.
    """
    if referral_code and referrer_by_code(code=referral_code) is None:
        raise UnknownReferralCode(referral_code)
    customer = customer_by_email(email)
    if customer is None:
        try:
            with transaction.atomic():
                customer = user_create(
                    email=email, first_name=first_name, last_name=last_name, language=language
                )
                link = customer_link(
                    partner=partner,
                    customer=customer,
                    external_id=external_id,
                    created_customer=True,
                )
                if referral_code:
                    referral_attribute(customer=customer, code=referral_code, source="partner")
                return customer, link, True
        except IntegrityError:
            customer = customer_by_email(email)
            if customer is None:
                raise
    link = customer_link(partner=partner, customer=customer, external_id=external_id)
    return customer, link, False


@transient_retry
def partner_points_award(
    *, partner: Partner, customer: Customer, points: int, reason: str
) -> Transaction:
    """Points a partner gives a customer (a goodwill gesture, a campaign), posted at once."""
    return points_award(
        customer=customer,
        points=points,
        kind=Transaction.Kind.EARN,
        memo=reason,
        reason=f"Awarded by partner {partner.name}",
        cause="partner",
        cause_ref=str(partner.public_id),
    )


class RefundNotPossible(Exception):
    """Nothing is left to refund, or the amount is more than what is left."""


@transient_retry
def partner_conversion_record(
    *,
    partner: Partner,
    customer: Customer,
    order_id: str,
    amount: Decimal,
    currency: str,
    occurred_at: datetime | None = None,
    subject_slug: str = "",
    buyer_referred: bool = True,
    link_pending: bool = False,
) -> ConversionOutcome:
    """A purchase a partner reports, all in one database transaction: record it, earn
    points by the earn rules and tier, qualify the buyer's referral, plan the NPS survey.

    Through a merchant's link the person has not agreed to yet (`link_pending`), the
    points are held until the answer and nothing else happens: the yes releases them
    and qualifies the referral (`partners.links.link_answer`), a no voids them.

    Raises `DuplicateOrder` (the partner reported this order before) or
    `UnknownCurrency`; either way nothing was written. A buyer the caller read as never
    referred (`buyer_referred` False) skips the referral's lock, a round trip on most
    purchases (a referral attributed after that read is one attributed after this purchase).
    """
    with transaction.atomic():
        conversion = conversion_record(
            customer=customer,
            channel=str(partner.public_id),
            order_id=order_id,
            amount=amount,
            currency=currency,
            occurred_at=occurred_at,
            subject_slug=subject_slug,
        )
        if link_pending:
            link = PartnerCustomer.objects.get(partner=partner, customer=customer)
            conversion_earn(conversion=conversion, held_until=link_held_until(link))
            return ConversionOutcome(conversion=conversion, points_earned=0, referral=None)
        earned = conversion_earn(conversion=conversion)
        referral = referral_conversion_qualify(conversion=conversion) if buyer_referred else None
        survey_schedule(conversion=conversion)
    return ConversionOutcome(
        conversion=conversion,
        points_earned=credited_points(earned) if earned else 0,
        referral=referral,
    )


@transient_retry
def partner_conversion_refund(
    *, conversion: Conversion, amount: Decimal | None = None
) -> ConversionOutcome:
    """Refund all or part of a purchase and take back what it earned, in one transaction:
    its points in proportion, and the referral rewards it qualified."""
    with transaction.atomic():
        try:
            conversion = conversion_refund(conversion=conversion, amount=amount)
        except RefundTooLarge as error:
            raise RefundNotPossible(str(error)) from None
        conversion_unwind(conversion=conversion, refunded_amount=conversion.refunded_amount)
        referral_conversion_refund(conversion=conversion)
    return conversion_outcome(conversion=conversion)


@transient_retry
def partner_reward_redeem(
    *, partner: Partner, customer: Customer, reward: Reward, idempotency_key: str
) -> Redemption:
    """Spend the customer's settled points on a reward for them; its voucher is issued.

    The API request's key goes to the ledger too (scoped to the partner), so a
    retry after a crash half-way still redeems once. Raises `InsufficientPoints`
    or `RewardUnavailable`, with nothing changed.
    """
    scoped_key = hashlib.sha256(f"{partner.public_id}:{idempotency_key}".encode()).hexdigest()
    return reward_redeem(customer=customer, reward=reward, idempotency_key=f"partner:{scoped_key}")


def partner_voucher_use(*, voucher: Voucher, order_id: str) -> Voucher:
    """A partner uses a voucher of a linked customer for an order, once (`VoucherError`
    if it is used, expired or void)."""
    return voucher_use(code=voucher.code, order_id=order_id)


def partner_data_request(*, partner: Partner, customer: Customer) -> DataExport:
    """A linked partner asks for the customer's data archive; it is emailed to the customer
    (the archive holds everything, so it goes to its owner, not to the partner)."""
    return data_export_request(customer=customer, source=DataExport.Source.PARTNER)


def partner_customer_redact(*, partner: Partner, customer: Customer) -> None:
    """A linked partner asks for the customer's erasure (for example, on their request).

    An own site erases the member's account; a merchant ends its link and forgets its id
    for the person, and the member's account stays. A staff account is never erased here
    (`StaffAccount`).
    """
    if customer.user.is_staff or customer.user.is_superuser:
        raise StaffAccount(customer.public_id)
    if partner.kind == Partner.Kind.MERCHANT:
        link = PartnerCustomer.objects.get(partner=partner, customer=customer)
        link_end(link=link, reason="redacted", forget=True)
        return
    customer_erase(customer=customer, source=f"partner {partner.public_id}")
