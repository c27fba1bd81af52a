"""Demo data for a first look; safe to run again (nothing is added twice)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from customers.demo import DEMO_PASSWORD, seed_customers


class Command(BaseCommand):
    help = "Create demo staff, customers, a contact person and friends (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--yes", action="store_true", help="Run even with DEBUG off (not for production)."
        )

    def handle(self, *args, yes: bool = False, **options):
        if not settings.DEBUG and not yes:
            raise CommandError(
                "DEBUG is off: this looks like production. Add --yes to seed anyway."
            )
        summary = seed_customers()
        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({summary})."))
        self.stdout.write(f"  staff:    staff@example.com / {DEMO_PASSWORD}  (admin at /admin/)")
        self.stdout.write(f"  customer: anna@example.com / {DEMO_PASSWORD}")
