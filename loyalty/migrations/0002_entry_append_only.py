"""Entries are append-only, enforced by PostgreSQL itself rather than by convention.

TRUNCATE (used by test database flushes) is not a row operation and is not refused.
"""

from django.db import migrations

FORWARD = """
CREATE FUNCTION loyalty_entry_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'loyalty_entry is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER loyalty_entry_append_only
    BEFORE UPDATE OR DELETE ON loyalty_entry
    FOR EACH ROW EXECUTE FUNCTION loyalty_entry_refuse_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS loyalty_entry_append_only ON loyalty_entry;
DROP FUNCTION IF EXISTS loyalty_entry_refuse_change();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
