from __future__ import annotations

from importlib import import_module

from django.apps import apps

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
