from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    """Shared infrastructure; as an app only to keep the staff groups in step with migrate."""

    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from core.staff_groups import staff_groups_sync

        post_migrate.connect(staff_groups_sync, dispatch_uid="core.staff_groups_sync")
