from django.apps import AppConfig


class PartnersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "partners"

    def ready(self) -> None:
        # Registers the API-key scheme with spectacular and the webhook receivers.
        from partners import receivers, schema  # noqa: F401
