"""Entries are append-only, enforced by PostgreSQL itself rather than by convention."""

from django.db import migrations

from core.db import append_only


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0001_initial")]

    operations = [append_only("loyalty_entry")]
