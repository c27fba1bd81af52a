from django.apps import AppConfig


class PartnersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "partners"

    def ready(self) -> None:
        # The webhook and data-rights receivers; the API-key scheme for the schema.
        from partners import privacy, receivers, schema  # noqa: F401
