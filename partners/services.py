"""Every write the partner API makes: partners and keys, customer links, and the
orchestration of the lower apps' services behind each endpoint."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from customers.models import Customer
from customers.selectors import customer_by_email
from customers.services import user_create
from loyalty.ledger import points_award
from loyalty.models import Transaction
from partners.models import Partner, PartnerAPIKey, PartnerCustomer


class ExternalIdTaken(Exception):
    """The partner already uses this external id for another customer."""

    code = "external_id_taken"


def partner_create(*, name: str, webhook_url: str = "") -> tuple[Partner, str]:
    """A new partner with its first API key; the key is returned once and stored hashed."""
    with transaction.atomic():
        partner = Partner.objects.create(name=name, webhook_url=webhook_url)
        _api_key, key = partner_api_key_create(partner=partner, name="default")
    return partner, key


def partner_api_key_create(*, partner: Partner, name: str) -> tuple[PartnerAPIKey, str]:
    return PartnerAPIKey.objects.create_key(partner=partner, name=name)


def _customer_link(*, partner: Partner, customer: Customer, external_id: str) -> PartnerCustomer:
    """Link a customer to the partner under `external_id` (a new id replaces the old)."""
    try:
        with transaction.atomic():
            link, created = PartnerCustomer.objects.get_or_create(
                partner=partner, customer=customer, defaults={"external_id": external_id}
            )
            if not created and link.external_id != external_id:
                link.external_id = external_id
                link.save(update_fields=["external_id"])
            return link
    except IntegrityError:
        raise ExternalIdTaken(external_id) from None


def partner_customer_upsert(
    *,
    partner: Partner,
    external_id: str,
    email: str,
    first_name: str = "",
    last_name: str = "",
) -> tuple[Customer, bool]:
    """Create a customer (with a portal account) or link the one who owns the email.

    Returns the customer and whether it was created. Two partners creating the
    same email at once both end with one customer: the loser of the race on
    the unique email links the winner's customer instead.
    """
    customer = customer_by_email(email)
    if customer is None:
        try:
            with transaction.atomic():
                customer = user_create(email=email, first_name=first_name, last_name=last_name)
                _customer_link(partner=partner, customer=customer, external_id=external_id)
                return customer, True
        except IntegrityError:
            customer = customer_by_email(email)
            if customer is None:
                raise
    _customer_link(partner=partner, customer=customer, external_id=external_id)
    return customer, False


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
