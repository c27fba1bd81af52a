"""A real worker SIGKILLed mid-task: after a restart every due transaction is settled
exactly once and every invitation sent exactly once (SMTP allows one duplicate of the
message in flight when the worker died, never a duplicate reward)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from loyalty import ledger
from loyalty.audit import ledger_audit
from loyalty.models import Transaction
from loyalty.selectors import Balance, balance
from loyalty.tasks import ledger_settle_due
from referrals.invitations import invitations_create
from referrals.models import Invitation
from referrals.tasks import email_invitations_send, invitations_sweep
from tests.factories import CustomerFactory
from tests.faults.tasks import ledger_settle_in_batches, marks
from tests.support import CeleryWorker, SmtpSink, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _worker(**env) -> CeleryWorker:
    return CeleryWorker(env={k: str(v) for k, v in env.items()}, include="tests.faults.tasks")


def test_worker_killed_inside_a_settlement_batch_settles_each_transaction_once(markers):
    customers = [CustomerFactory() for _ in range(3)]
    due = timezone.now() - timedelta(seconds=1)
    for i in range(60):
        ledger.points_award(
            customer=customers[i % 3], points=10, kind="earn", memo="Held", settles_at=due
        )
    worker = _worker(FAULTS_STALL_SETTLEMENT_BATCH=3).start()
    try:
        ledger_settle_in_batches.delay(10)
        # Two batches committed; the third has updated its rows and waits to commit.
        wait_for(lambda: marks("settlement-batches") == 3, timeout=60)
        worker.kill()
        statuses = list(Transaction.objects.values_list("status", flat=True))
        assert (statuses.count("posted"), statuses.count("pending")) == (20, 40)
        assert ledger_audit().clean

        worker.restart()
        # Beat runs settlement again; two overlapping runs, as after an outage.
        ledger_settle_due.delay()
        ledger_settle_due.delay()
        wait_for(lambda: not Transaction.objects.filter(status="pending").exists(), timeout=60)
        wait_for(worker.idle, timeout=30)
    finally:
        worker.stop()
    assert Transaction.objects.filter(status="posted").count() == 60
    assert all(balance(customer=c) == Balance(settled=200, pending=0) for c in customers)
    assert ledger_audit().clean


@pytest.fixture
def slow_smtp():
    sink = SmtpSink(delay=3).start()
    yield sink
    sink.stop()


def test_worker_killed_while_sending_invitations_sends_each_once(slow_smtp):
    anna = CustomerFactory()
    addresses = [f"friend{i}@example.org" for i in range(6)]
    worker = CeleryWorker(
        env={"EMAIL_URL": slow_smtp.url, "EMAIL_RETRY_BACKOFF": "1"}, concurrency=1
    ).start()
    try:
        invited = invitations_create(sender=anna, addresses=" ".join(addresses)).invited
        assert len(invited) == 6
        # The second message reached the server, whose 250 the worker never hears.
        wait_for(lambda: len(slow_smtp.messages) == 2, timeout=60)
        worker.kill()
        in_flight = slow_smtp.messages[1]["To"]
        queued = Invitation.objects.filter(status=Invitation.Status.QUEUED)
        assert queued.count() == 5
        # Time passes: the dead worker's claim runs out and the rows wait for the sweeper.
        queued.filter(claimed_until__isnull=False).update(
            claimed_until=timezone.now() - timedelta(seconds=1)
        )
        queued.update(queued_at=timezone.now() - timedelta(minutes=10))
        slow_smtp.delay = 0

        worker.restart()
        invitations_sweep.delay()
        # What the broker still holds, or hands out again, is delivered too.
        email_invitations_send.delay([invitation.pk for invitation in invited])
        wait_for(
            lambda: not Invitation.objects.exclude(status=Invitation.Status.SENT).exists(),
            timeout=60,
        )
        wait_for(worker.idle, timeout=30)
    finally:
        worker.stop()
    counts = {address: slow_smtp.count_to(address) for address in addresses}
    assert counts.pop(in_flight) in (1, 2), counts
    assert set(counts.values()) == {1}, counts
