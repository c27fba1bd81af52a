"""Test-only tasks and hooks, loaded by a test's worker with `--include=tests.faults.tasks`.

They leave marks (one line per event) in the folder named by FAULTS_MARKER_DIR,
so that the test process can see what a worker is doing without a database row.
FAULTS_STALL_SETTLEMENT_BATCH=N makes the worker stop inside the N-th settlement
batch, after its updates and before its commit, until the test kills it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from celery import shared_task
from django.dispatch import receiver

from loyalty.signals import transactions_settled


def marks(name: str) -> int:
    path = Path(os.environ["FAULTS_MARKER_DIR"]) / name
    return len(path.read_text().splitlines()) if path.exists() else 0


def mark(name: str) -> int:
    """Record one event; returns how many were recorded so far."""
    with (Path(os.environ["FAULTS_MARKER_DIR"]) / name).open("a") as marker:
        marker.write(f"{os.getpid()}\n")
    return marks(name)


if os.environ.get("FAULTS_STALL_SETTLEMENT_BATCH"):

    @receiver(transactions_settled, dispatch_uid="tests.faults.stall")
    def _stall_in_batch(sender, **kwargs) -> None:
        if mark("settlement-batches") == int(os.environ["FAULTS_STALL_SETTLEMENT_BATCH"]):
            time.sleep(300)


@shared_task
def ledger_settle_in_batches(batch_size: int) -> int:
    """`settle_due` in small batches, so that a kill can fall between two of them."""
    from loyalty.ledger import settle_due

    return settle_due(batch_size=batch_size)


@shared_task
def ledger_award_slowly(customer_id: int, points: int, key: str, seconds: float) -> int:
    """Outlive the broker's visibility timeout, then post once under `key`.

    Waits until a second delivery has started (or `seconds` passed), so that the
    two deliveries overlap as they do when a slow task is handed out again.
    """
    from customers.models import Customer
    from loyalty.ledger import points_award

    mark("award-deliveries")
    deadline = time.monotonic() + seconds
    while marks("award-deliveries") < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    posted = points_award(
        customer=Customer.objects.get(pk=customer_id),
        points=points,
        kind="earn",
        memo="Slow task",
        idempotency_key=key,
    )
    return posted.pk
