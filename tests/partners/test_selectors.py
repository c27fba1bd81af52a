"""Reads scoped to one partner: its customers with what they show, and the buyer lookup."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from customers.models import Customer
from loyalty.ledger import points_award
from partners.selectors import partner_customer, partner_customers, partner_linked_customer
from partners.serializers import CustomerSerializer
from partners.services import partner_customer_upsert
from referrals.models import Referral
from tests.factories import CustomerFactory
from tests.partners.factories import PartnerFactory
from tests.referrals.factories import active_program

pytestmark = pytest.mark.django_db

# What the API shows of a customer, read by the compiled statement and by the queryset.
SHOWN = [
    "pk", "public_id", "referral_code", "created_at", "external_id", "link", "user_email",
    "user_first_name", "user_last_name", "points_balance", "points_pending", "referred_by",
    "placed_tier_name",
]  # fmt: skip


def _link(partner, customer, external_id):
    partner_customer_upsert(
        partner=partner, email=customer.user.email, external_id=external_id, first_name="x"
    )


def _refer(referrer, referee, status):
    Referral.objects.create(
        referrer=referrer, referee=referee, program=active_program(), source="link", status=status
    )


def test_the_compiled_read_answers_as_partner_customers_does():
    partner, other = PartnerFactory(), PartnerFactory()
    referrer = CustomerFactory()
    plain, rich, refused = CustomerFactory(), CustomerFactory(), CustomerFactory()
    for number, customer in enumerate([plain, rich, refused]):
        _link(partner, customer, f"ext-{number}")
    _link(other, rich, "theirs-1")
    points_award(customer=rich, points=30, kind="adjust", memo="settled")
    points_award(
        customer=rich,
        points=7,
        kind="adjust",
        memo="held",
        settles_at=timezone.now() + timedelta(days=3),
    )
    _refer(referrer, rich, Referral.Status.PENDING)
    _refer(referrer, refused, Referral.Status.REJECTED)

    for customer in [plain, rich, refused]:
        compiled = partner_customer(partner=partner, public_id=customer.public_id)
        orm = partner_customers(partner=partner).get(public_id=customer.public_id)
        assert {name: getattr(compiled, name) for name in SHOWN} == {
            name: getattr(orm, name) for name in SHOWN
        }
        assert CustomerSerializer(compiled).data == CustomerSerializer(orm).data

    rich_read = partner_customer(partner=partner, public_id=rich.public_id)
    assert (rich_read.external_id, rich_read.link) == ("ext-1", "active")
    assert (rich_read.points_balance, rich_read.points_pending) == (30, 7)
    assert partner_customer(partner=partner, public_id=plain.public_id).points_balance == 0
    assert rich_read.referred_by == referrer.referral_code
    assert partner_customer(partner=partner, public_id=refused.public_id).referred_by is None
    assert partner_customer(partner=other, public_id=rich.public_id).external_id == "theirs-1"


def test_a_customer_read_finds_nothing_outside_the_partner():
    partner, other = PartnerFactory(), PartnerFactory()
    customer = CustomerFactory()
    _link(other, customer, "theirs")
    assert partner_customer(partner=partner, public_id=customer.public_id) is None
    assert partner_customer(partner=partner, public_id=uuid.uuid4()) is None


def test_the_buyer_lookup_is_the_plain_customer_row_of_this_partner_only():
    partner, other = PartnerFactory(), PartnerFactory()
    mine, theirs = CustomerFactory(), CustomerFactory()
    _link(partner, mine, "mine")
    _link(other, theirs, "theirs")
    found = partner_linked_customer(partner=partner, public_id=mine.public_id)
    stored = Customer.objects.get(pk=mine.pk)
    fields = [field.attname for field in Customer._meta.concrete_fields]
    assert {name: getattr(found, name) for name in fields} == {
        name: getattr(stored, name) for name in fields
    }
    assert partner_linked_customer(partner=partner, public_id=theirs.public_id) is None
    assert partner_linked_customer(partner=partner, public_id=uuid.uuid4()) is None


@pytest.mark.parametrize("status", [None, *Referral.Status.values])
def test_the_buyer_lookup_says_whether_the_buyer_was_referred(status):
    """A purchase skips the referral's lock only for a buyer with no referral at all."""
    partner, buyer = PartnerFactory(), CustomerFactory()
    _link(partner, buyer, "buyer")
    if status is not None:
        _refer(CustomerFactory(), buyer, status)
    found = partner_linked_customer(partner=partner, public_id=buyer.public_id)
    assert bool(found.referred) is (status is not None)


def test_the_compiled_read_sees_a_tier_saved_after_it_was_compiled():
    from loyalty.models import Tier
    from loyalty.tiers import customer_tier_name

    partner, customer = PartnerFactory(), CustomerFactory()
    _link(partner, customer, "ext")
    points_award(customer=customer, points=1200, kind="earn", memo="Purchase")
    read = partner_customer(partner=partner, public_id=customer.public_id)
    assert customer_tier_name(customer=read) == "Silver"
    read = partner_customer(partner=partner, public_id=customer.public_id)
    assert read.placed_tier_fresh and read.placed_tier_name == "Silver"
    silver = Tier.objects.get(name="Silver")
    silver.min_points = 2000
    silver.save()
    read = partner_customer(partner=partner, public_id=customer.public_id)
    assert not read.placed_tier_fresh
    assert customer_tier_name(customer=read) == "Bronze"
