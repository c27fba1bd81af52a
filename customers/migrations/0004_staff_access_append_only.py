"""The staff access trail is append-only, enforced by PostgreSQL itself."""

from django.db import migrations

from core.db import append_only


class Migration(migrations.Migration):
    dependencies = [("customers", "0003_privacy")]

    operations = [append_only("customers_staffaccess")]
