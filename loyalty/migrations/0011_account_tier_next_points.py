from django.db import migrations, models


def place_again(apps, schema_editor):
    """Placements stored before the column existed are placed again on their next read."""
    apps.get_model("loyalty", "Account").objects.filter(tier_fresh_until__isnull=False).update(
        tier_fresh_until=None
    )


class Migration(migrations.Migration):
    dependencies = [
        ("loyalty", "0010_account_tier_standing"),
    ]

    operations = [
        migrations.AddField(
            model_name="account",
            name="tier_next_points",
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.RunPython(place_again, migrations.RunPython.noop),
    ]
