from django.apps import AppConfig


class LoyaltyConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "loyalty"

    def ready(self) -> None:
        from loyalty import notices, notifications, privacy, tiers  # noqa: F401  (receivers)
