from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.backups import BackupError, backup_restore


class Command(BaseCommand):
    help = (
        "Restore a backup made by `backup` into this installation's database and file "
        "folders, which must be empty; then run `migrate` and `audit_ledger`."
    )

    def add_arguments(self, parser):
        parser.add_argument("source", type=Path, help="the backup's folder")
        parser.add_argument(
            "--database-url",
            help="restore through this address instead (PostgreSQL itself, not PgBouncer)",
        )

    def handle(self, *args, source: Path, database_url: str | None, **options):
        try:
            manifest = backup_restore(source=source, database_url=database_url)
        except BackupError as error:
            raise CommandError(str(error)) from error
        files = ", ".join(f"{count} {part}" for part, count in manifest["files"].items())
        self.stdout.write(
            self.style.SUCCESS(f"Restored the backup of {manifest['created_at']} ({files} files).")
        )
