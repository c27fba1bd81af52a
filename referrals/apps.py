"""Referrals: programs, invitations, referral links and attribution."""

from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "referrals"

    def ready(self) -> None:
        from referrals import notices, privacy, receivers  # noqa: F401 - connect the signal receivers
