from django.core.management.base import BaseCommand

from loyalty.audit import ledger_audit


class Command(BaseCommand):
    help = "Recompute every balance from the entries; exit 1 on any difference or imbalance."

    def handle(self, *args, **options):
        report = ledger_audit()
        for problem in report.unbalanced_transactions + report.balance_differences:
            self.stderr.write(problem)
        if not report.clean:
            raise SystemExit(1)
        self.stdout.write(self.style.SUCCESS("Ledger balanced: every balance matches its entries."))
