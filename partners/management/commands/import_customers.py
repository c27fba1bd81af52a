"""Import existing customers from a CSV file: the admin's import, from a shell."""

from __future__ import annotations

import threading
from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from customers.imports import import_progress
from customers.models import CustomerImport
from partners.imports import (
    customer_import_analyse,
    customer_import_confirm,
    customer_import_create,
    customer_import_run,
)


class Command(BaseCommand):
    help = (
        "Import existing customers (and their opening balances) from a CSV file. "
        "--dry-run checks the file and prints what an import would do, writing nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--source",
            default="import",
            help="A short name for the system the customers come from (balances post once "
            "per source and customer).",
        )
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument(
            "--welcome",
            action="store_true",
            help="Email new customers who agreed to marketing a link to set their password.",
        )

    def handle(self, *args, file: Path, source: str, dry_run: bool, welcome: bool, **options):
        if not file.is_file():
            raise CommandError(f"No such file: {file}")
        with file.open("rb") as handle:
            customer_import = customer_import_create(
                upload=File(handle, name=file.name),
                source=source,
                send_welcome=welcome,
                created_by=None,
                queue=False,
            )
        customer_import = customer_import_analyse(customer_import_id=customer_import.pk)
        if customer_import.status == CustomerImport.Status.FAILED:
            customer_import.file.delete(save=False)
            customer_import.delete()
            raise CommandError(customer_import.error)
        self.stdout.write(
            f"{customer_import.total_rows} rows: {customer_import.expected_new} new, "
            f"{customer_import.expected_matched} matched, "
            f"{customer_import.expected_rejected} rejected."
        )
        if dry_run:
            # A dry run is not an import: it leaves no record behind.
            customer_import.file.delete(save=False)
            customer_import.delete()
            self.stdout.write("Dry run: nothing was written.")
            return
        customer_import_confirm(customer_import=customer_import, queue=False)
        done = threading.Event()
        reporter = threading.Thread(target=self._report, args=(customer_import.pk, done))
        reporter.start()
        try:
            customer_import_run(customer_import_id=customer_import.pk)
        finally:
            done.set()
            reporter.join()
        customer_import.refresh_from_db()
        progress = import_progress(customer_import)
        self.stdout.write(
            self.style.SUCCESS(
                f"Import {customer_import.pk} {progress.status_display}: {progress.created} "
                f"created, {progress.matched} matched, {progress.rejected} rejected, "
                f"{progress.balances_posted} balances posted, "
                f"{progress.balances_differing} balances differing."
            )
        )
        if customer_import.rejected_count or customer_import.balances_differing:
            self.stdout.write("The rejected rows are in the admin, under Customer imports.")

    def _report(self, pk: int, done: threading.Event) -> None:
        from django.db import connection

        try:
            while not done.wait(5):
                progress = import_progress(CustomerImport.objects.get(pk=pk))
                self.stderr.write(f"{progress.rows_done} of {progress.total_rows} rows")
        finally:
            connection.close()
