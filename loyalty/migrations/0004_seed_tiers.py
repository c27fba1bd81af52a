"""Bronze, Silver and Gold, which staff may rename and re-price in the admin."""

from decimal import Decimal

from django.db import migrations

TIERS = [
    ("Bronze", 0, None, Decimal("1.00"), "Earn points on every purchase."),
    ("Silver", 1000, 3, Decimal("1.25"), "25% more points on every purchase."),
    ("Gold", 5000, 10, Decimal("1.50"), "50% more points on every purchase."),
]


def seed(apps, schema_editor):
    Tier = apps.get_model("loyalty", "Tier")
    for name, min_points, min_referrals, multiplier, benefits in TIERS:
        Tier.objects.get_or_create(
            name=name,
            defaults={
                "min_points": min_points,
                "min_referrals": min_referrals,
                "multiplier": multiplier,
                "benefits": benefits,
            },
        )


def unseed(apps, schema_editor):
    apps.get_model("loyalty", "Tier").objects.filter(name__in=[t[0] for t in TIERS]).delete()


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0003_earn_rules_tiers")]

    operations = [migrations.RunPython(seed, unseed)]
