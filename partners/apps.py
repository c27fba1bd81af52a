from django.apps import AppConfig


class PartnersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "partners"

    def ready(self) -> None:
        from partners import privacy, schema  # noqa: F401 - receivers; API-key scheme for the schema
