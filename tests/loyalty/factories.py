from __future__ import annotations

import itertools
from decimal import Decimal

import factory

from customers.conversions import conversion_record
from customers.models import Conversion, Customer
from loyalty import ledger
from loyalty.models import Reward, Transaction

_orders = itertools.count(1)


def purchase(customer: Customer, amount: str = "100.00", currency: str = "EUR") -> Conversion:
    """A purchase recorded as the partner API records it."""
    return conversion_record(
        customer=customer,
        channel="shop",
        order_id=f"A-{next(_orders)}",
        amount=Decimal(amount),
        currency=currency,
    )


def settled_points(customer: Customer, points: int) -> Transaction:
    return ledger.points_award(
        customer=customer, points=points, kind=Transaction.Kind.EARN, memo="Test points"
    )


class RewardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reward

    name = factory.Sequence(lambda n: f"Free coffee {n}")
    kind = Reward.Kind.FREE_PRODUCT
    points_cost = 100
