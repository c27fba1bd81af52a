"""Demo data for a first look; safe to run again (nothing is added twice).

Each app contributes its own `demo.seed()` (returning a one-line summary); they
run in INSTALLED_APPS order, which is the order of the layers, so an app's
demo data can build on the apps below it.
"""

from __future__ import annotations

from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.module_loading import module_has_submodule

from customers.demo import DEMO_PASSWORD


class Command(BaseCommand):
    help = "Create demo staff, customers, friends and each app's demo data (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--yes", action="store_true", help="Run even with DEBUG off (not for production)."
        )

    def handle(self, *args, yes: bool = False, **options):
        if not settings.DEBUG and not yes:
            raise CommandError(
                "DEBUG is off: this looks like production. Add --yes to seed anyway."
            )
        for config in apps.get_app_configs():
            if config.name.startswith(("django.", "allauth", "rest_framework")):
                continue
            if module_has_submodule(config.module, "demo"):
                with transaction.atomic():
                    summary = import_module(f"{config.name}.demo").seed()
                self.stdout.write(f"{config.label}: {summary}")
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"  staff:    staff@example.com / {DEMO_PASSWORD}  (admin at /admin/)")
        self.stdout.write(f"  customer: anna@example.com / {DEMO_PASSWORD}")
