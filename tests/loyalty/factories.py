from __future__ import annotations

import factory

from customers.models import Customer
from loyalty import ledger
from loyalty.models import Reward, Transaction


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
