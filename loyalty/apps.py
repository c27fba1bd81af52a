from django.apps import AppConfig


class LoyaltyConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "loyalty"

    def ready(self) -> None:
        from loyalty import (  # noqa: F401  (receivers)
            fragments,
            notices,
            notifications,
            privacy,
            tiers,
        )
