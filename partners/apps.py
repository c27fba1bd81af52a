from django.apps import AppConfig


class PartnersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "partners"

    def ready(self) -> None:
        # The webhook, data-rights and key-cache receivers; the API-key scheme for the schema.
        from partners import authentication, privacy, receivers, schema  # noqa: F401
