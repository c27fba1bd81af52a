from __future__ import annotations

from importlib import import_module

from django.apps import apps

from referrals.introductions import introduction_answer, introduction_create
from referrals.models import ReferralProgram
from referrals.selectors import program_active
from tests.factories import ContactPersonFactory, CustomerFactory


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


def introducer(**fields):
    """A customer with a contact person, who can introduce friends."""
    customer = CustomerFactory(**fields)
    customer.contact_person = ContactPersonFactory(name="Maria Rossi", role="Kitchen planner")
    customer.save(update_fields=["contact_person"])
    return customer


def introduction_said_yes(introducer_customer=None, *, friend_email: str = "ben@example.org"):
    """An introduction its friend said yes to (status new), ready for staff to move."""
    introduction = introduction_create(
        introducer=introducer_customer or introducer(),
        friend_name="Ben",
        friend_email=friend_email,
        looking_for="a kitchen",
    )
    return introduction_answer(introduction_id=introduction.pk, accept=True).introduction
