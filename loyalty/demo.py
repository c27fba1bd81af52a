"""Demo rewards for `seed_demo`: a catalog, points for the demo customers, a voucher, a gift.

Every posting carries an idempotency key, so running the seed again adds nothing.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from customers.models import Customer
from loyalty.gifts import gift_to_friend
from loyalty.ledger import points_award
from loyalty.memos import Memo
from loyalty.models import ExchangeRate, Reward, Transaction
from loyalty.vouchers import reward_redeem

CATALOG = [
    ("Free filter coffee", Reward.Kind.FREE_PRODUCT, "0", 150, None,
     "Any filter coffee of the day, any size."),
    ("10% off your next order", Reward.Kind.DISCOUNT_PERCENT, "10", 300, None,
     "Ten percent off a whole order, beans and brewing gear included."),
    ("5 EUR off", Reward.Kind.DISCOUNT_AMOUNT, "5", 400, None,
     "Five euros off any order above 20 euros."),
    ("Bag of house espresso (250 g)", Reward.Kind.FREE_PRODUCT, "0", 900, 25,
     "Our house espresso roast, freshly packed."),
    ("25 EUR gift card", Reward.Kind.GIFT_CARD, "25", 2000, 10,
     "A gift card for you or for someone you like."),
]  # fmt: skip

# (email, points earned, points still held)
POINTS = [
    ("anna@example.com", 1200, 0),
    ("ben@example.com", 320, 80),
    ("carla@example.com", 90, 150),
]


def seed() -> str:
    """A catalog, exchange rates, points for three customers, Anna's voucher and a gift to Ben."""
    rewards = {}
    for name, kind, value, cost, stock, description in CATALOG:
        rewards[name], _ = Reward.objects.get_or_create(
            name=name,
            defaults={
                "kind": kind,
                "value": Decimal(value),
                "points_cost": cost,
                "stock": stock,
                "description": description,
            },
        )
    for currency, rate in [("USD", "0.92"), ("GBP", "1.17")]:
        ExchangeRate.objects.get_or_create(currency=currency, defaults={"rate": Decimal(rate)})
    customers = {c.user.email: c for c in Customer.objects.select_related("user")}
    for email, earned, held in POINTS:
        customer = customers[email]
        points_award(
            customer=customer,
            points=earned,
            kind=Transaction.Kind.EARN,
            memo=Memo(kind="purchase_points"),
            idempotency_key=f"demo:{email}:earned",
        )
        if held:
            points_award(
                customer=customer,
                points=held,
                kind=Transaction.Kind.EARN,
                memo=Memo(kind="order_points", params={"order": "D-1001"}),
                settles_at=timezone.now() + timedelta(days=14),
                idempotency_key=f"demo:{email}:held",
            )
    anna, ben = customers["anna@example.com"], customers["ben@example.com"]
    reward_redeem(
        customer=anna, reward=rewards["Free filter coffee"], idempotency_key="demo:anna:coffee"
    )
    gift_to_friend(
        sender=anna,
        recipient=ben,
        points=100,
        note="Try the new Ethiopian roast!",
        idempotency_key="demo:anna:gift-to-ben",
    )
    return f"{len(rewards)} rewards, points for {len(POINTS)} customers, 1 voucher, 1 gift"
