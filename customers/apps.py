from django.apps import AppConfig


class CustomersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "customers"
    verbose_name = "Customers"

    def ready(self) -> None:
        from allauth.mfa.signals import authenticator_added

        from customers import (
            fragments,  # noqa: F401  (its receivers)
            languages,  # noqa: F401  (its sign-in receiver)
            notices,  # noqa: F401  (connects its receivers)
        )
        from customers.adapters import second_factor_added

        authenticator_added.connect(second_factor_added, dispatch_uid="customers.second_factor")
