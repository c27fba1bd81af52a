from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from loyalty.ledger import settle_due


class Command(BaseCommand):
    help = "Settle every pending transaction due by --as-of (default: now); prints how many."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", help="ISO 8601 date-time, e.g. 2026-12-01T00:00:00Z")

    def handle(self, *args, as_of: str | None = None, **options):
        moment = timezone.now()
        if as_of:
            try:
                moment = datetime.fromisoformat(as_of)
            except ValueError:
                raise CommandError(f"--as-of is not an ISO 8601 date-time: {as_of!r}") from None
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment)
        settled = settle_due(as_of=moment)
        self.stdout.write(f"Settled {settled} transaction(s) due by {moment.isoformat()}.")
