"""Demo referrals for `seed_demo`: Anna referred Elif (who bought), Ben referred Carla,
Anna has invitations out, which the worker sends (to the console in `make run`), and she
introduced her friend Jonas to her contact person (his yes/no email goes the same way)."""

from __future__ import annotations

from decimal import Decimal

from customers.conversions import DuplicateOrder, conversion_record
from customers.models import Conversion, Customer
from referrals.introductions import introduction_create
from referrals.invitations import invitations_create
from referrals.models import Referral
from referrals.selectors import program_active
from referrals.services import referral_attribute, referral_conversion_qualify

DEMO_ORDER = "DEMO-1001"


def _customer(email: str) -> Customer:
    return Customer.objects.select_related("user").get(user__email=email)


def seed() -> str:
    anna, ben = _customer("anna@example.com"), _customer("ben@example.com")
    carla, elif_ = _customer("carla@example.com"), _customer("elif@example.com")
    referral_attribute(customer=elif_, code=anna.referral_code, source=Referral.Source.LINK)
    referral_attribute(customer=carla, code=ben.referral_code, source=Referral.Source.INVITATION)
    try:
        purchase = conversion_record(
            customer=elif_,
            channel="demo",
            order_id=DEMO_ORDER,
            amount=Decimal("42.00"),
            currency="EUR",
        )
    except DuplicateOrder:
        purchase = Conversion.objects.get(channel="demo", order_id=DEMO_ORDER)
    referral_conversion_qualify(conversion=purchase)
    if not anna.invitations.exists():
        invitations_create(
            sender=anna,
            addresses="jonas@example.org, mia@example.org, li@example.org",
            note="You have to try their Ethiopian roast. Coffee on me next week?",
        )
    # Introductions need a running program (the data migration seeds one); without, none.
    if (
        anna.contact_person is not None
        and program_active() is not None
        and not anna.introductions.exists()
    ):
        introduction_create(
            introducer=anna,
            friend_name="Jonas",
            friend_email="jonas.b@example.org",
            looking_for="an espresso machine for his café",
            note="Jonas opens a café in spring.",
        )
    return (
        f"{Referral.objects.count()} referrals, {anna.invitations.count()} invitations and "
        f"{anna.introductions.count()} introductions by Anna"
    )
