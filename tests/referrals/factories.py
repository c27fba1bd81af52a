from __future__ import annotations

from decimal import Decimal
from importlib import import_module

from django.apps import apps
from django.utils import timezone

from customers.conversions import conversion_record
from customers.models import Conversion, Customer
from referrals.models import ReferralProgram
from referrals.selectors import program_active


def active_program(**changes) -> ReferralProgram:
    """The default program from the data migration, changed as a test needs.

    Transactional tests start after a flush has removed the migration's rows: the same
    migration code puts them back.
    """
    program = program_active()
    if program is None:
        import_module("referrals.migrations.0002_default_program").create_defaults(apps, None)
        program = program_active()
    for name, value in changes.items():
        setattr(program, name, value)
    program.save()
    return program


_orders = iter(range(1, 10**9))


def purchase(
    customer: Customer, amount: str = "40.00", currency: str = "EUR", **extra
) -> Conversion:
    return conversion_record(
        customer=customer,
        channel="shop",
        order_id=f"A-{next(_orders)}",
        amount=Decimal(amount),
        currency=currency,
        occurred_at=extra.pop("occurred_at", timezone.now()),
        **extra,
    )
