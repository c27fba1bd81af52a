"""A task that does nothing, loaded into the bench's workers with `--include`: the ceiling."""

from celery import shared_task


@shared_task(name="bench.email_noop")
def email_noop(index: int) -> None:
    """Routed like the invitation task (its name holds `email_`), so it shares its queue."""
