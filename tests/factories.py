from __future__ import annotations

import itertools
from datetime import datetime
from decimal import Decimal

import factory

from customers.conversions import conversion_record
from customers.models import ContactPerson, Conversion, Customer
from customers.services import user_create

PASSWORD = "correct-horse-battery-staple"


class CustomerFactory(factory.Factory):
    """Customers made through the service, as signup makes them."""

    class Meta:
        model = Customer

    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")

    @classmethod
    def _create(cls, model_class, email, first_name, last_name, **profile):
        return user_create(
            email=email, password=PASSWORD, first_name=first_name, last_name=last_name, **profile
        )


class ContactPersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactPerson

    name = factory.Faker("name")
    role = "Customer care"
    email = factory.Sequence(lambda n: f"contact{n}@example.com")


_order_numbers = itertools.count(1)


def purchase(
    customer: Customer,
    amount: str = "100.00",
    currency: str = "EUR",
    *,
    order_id: str | None = None,
    subject_slug: str = "",
    occurred_at: datetime | None = None,
) -> Conversion:
    """A purchase recorded as the partner API records it (nothing earned yet)."""
    return conversion_record(
        customer=customer,
        channel="shop",
        order_id=order_id or f"A-{next(_order_numbers)}",
        amount=Decimal(amount),
        currency=currency,
        occurred_at=occurred_at,
        subject_slug=subject_slug,
    )
