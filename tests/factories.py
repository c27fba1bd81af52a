from __future__ import annotations

import factory

from customers.models import ContactPerson, Customer
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
