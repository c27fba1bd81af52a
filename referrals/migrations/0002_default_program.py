"""A fresh install has one active program (partner-api.md) and a starter list of throwaway domains."""

from django.db import migrations
from django.utils import timezone

DISPOSABLE_DOMAINS = [
    "10minutemail.com",
    "discard.email",
    "dispostable.com",
    "guerrillamail.com",
    "mailinator.com",
    "maildrop.cc",
    "sharklasers.com",
    "temp-mail.org",
    "tempmail.com",
    "throwawaymail.com",
    "trashmail.com",
    "yopmail.com",
]


def create_defaults(apps, schema_editor):
    ReferralProgram = apps.get_model("referrals", "ReferralProgram")
    DisposableDomain = apps.get_model("referrals", "DisposableDomain")
    if not ReferralProgram.objects.exists():
        ReferralProgram.objects.create(
            name="Give points, get points",
            is_active=True,
            starts_at=timezone.now(),
            referrer_points=500,
            friend_points=250,
            friend_offer="250 welcome points with your first purchase",
            qualifying_event="purchase",
            minimum_purchase=0,
            hold_days=14,
            attribution_window_days=30,
            max_rewarded_per_month=10,
            max_invitations_per_day=50,
        )
    for domain in DISPOSABLE_DOMAINS:
        DisposableDomain.objects.get_or_create(domain=domain)


class Migration(migrations.Migration):
    dependencies = [("referrals", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
