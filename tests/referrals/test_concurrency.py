"""Races with real threads and commits (SQLite serialises writers, PostgreSQL locks rows)."""

import pytest

from loyalty.models import Transaction
from referrals.invitations import invitations_create
from referrals.models import Invitation, Referral
from referrals.services import referral_attribute, referral_conversion_qualify
from tests.factories import CustomerFactory, purchase
from tests.loyalty.helpers import run_in_threads
from tests.referrals.factories import active_program

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _program():
    active_program()


def test_simultaneous_purchases_reward_the_referral_once():
    anna, ben = CustomerFactory(), CustomerFactory()
    referral_attribute(customer=ben, code=anna.referral_code, source=Referral.Source.LINK)
    conversions = [purchase(ben) for _ in range(4)]
    results = run_in_threads(4, lambda i: referral_conversion_qualify(conversion=conversions[i]))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(1 for r in results if r is not None) == 1
    assert Transaction.objects.filter(kind=Transaction.Kind.REFERRAL_REWARD).count() == 1
    assert Referral.objects.get().status == Referral.Status.QUALIFIED


def test_simultaneous_attributions_keep_one_referrer():
    referrers = [CustomerFactory() for _ in range(4)]
    friend = CustomerFactory()
    results = run_in_threads(
        4,
        lambda i: referral_attribute(
            customer=friend, code=referrers[i].referral_code, source=Referral.Source.PARTNER
        ),
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    (referral,) = Referral.objects.all()
    assert {r.pk for r in results} == {referral.pk}


def test_simultaneous_pastes_respect_the_daily_cap():
    active_program(max_invitations_per_day=50)
    anna = CustomerFactory()
    pastes = [" ".join(f"p{n}-{i}@example.org" for i in range(30)) for n in range(3)]
    results = run_in_threads(3, lambda n: invitations_create(sender=anna, addresses=pastes[n]))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert Invitation.objects.filter(sender=anna).count() == 50
