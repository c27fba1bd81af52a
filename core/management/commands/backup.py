from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.backups import BackupError, backup_create


class Command(BaseCommand):
    help = (
        "Back up the PostgreSQL database (pg_dump) and the media and private files into a "
        "new folder (docs/operations.md#backups-and-restore)."
    )

    def add_arguments(self, parser):
        parser.add_argument("destination", type=Path, help="a new or empty folder")
        parser.add_argument(
            "--database-url",
            help="dump from this address instead (PostgreSQL itself, when the site uses PgBouncer)",
        )

    def handle(self, *args, destination: Path, database_url: str | None, **options):
        try:
            manifest = backup_create(destination=destination, database_url=database_url)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(f"Backup written: {manifest}"))
