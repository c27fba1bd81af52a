"""Redis hands a task out again when it outlives the visibility timeout: the
duplicate delivery must be absorbed (one effect)."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from loyalty.audit import ledger_audit
from loyalty.models import Transaction
from loyalty.selectors import balance
from referrals.invitations import invitations_create
from referrals.models import Invitation
from tests.factories import CustomerFactory
from tests.faults.conftest import producer_broker
from tests.faults.tasks import ledger_award_slowly, marks
from tests.support import CeleryWorker, SmtpSink, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

VISIBILITY_TIMEOUT = 3


@contextmanager
def short_visibility_worker(redis_server, **env):
    """A worker on a private Redis whose unacknowledged messages come back after 3 s."""
    env = {
        "REDIS_URL": redis_server.url,
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        **env,
    }
    with producer_broker(redis_server.url):
        worker = CeleryWorker(env=env, include="tests.faults.tasks").start()
        try:
            yield worker
            wait_for(worker.idle, timeout=30)
        finally:
            worker.stop()


def _received(worker: CeleryWorker, task: str) -> int:
    """How many times the worker was handed `task` (a redelivery counts again)."""
    return sum(
        f"{task}[" in line and line.endswith("received") for line in worker.log().splitlines()
    )


def test_a_ledger_task_delivered_twice_posts_once(redis_server, markers):
    anna = CustomerFactory()
    with short_visibility_worker(redis_server):
        # Handed out again within seconds of the timeout, not at kombu's default sweep (~100 s).
        ledger_award_slowly.delay(anna.pk, 100, "slow-award-1", 20)
        wait_for(lambda: marks("award-deliveries") >= 2, timeout=20)
        wait_for(lambda: Transaction.objects.exists(), timeout=30)
    assert Transaction.objects.count() == 1
    assert balance(customer=anna).settled == 100
    assert ledger_audit().clean


def test_an_invitation_delivered_twice_while_sending_is_sent_once(redis_server):
    # The server takes longer to answer than the broker waits for an acknowledgement.
    sink = SmtpSink(delay=VISIBILITY_TIMEOUT * 4).start()
    try:
        with short_visibility_worker(
            redis_server, EMAIL_URL=sink.url, EMAIL_TIMEOUT=str(VISIBILITY_TIMEOUT * 10)
        ) as worker:
            (invitation,) = invitations_create(
                sender=CustomerFactory(), addresses="friend@example.org"
            ).invited
            wait_for(lambda: _received(worker, "email_invitations_send") >= 2, timeout=60)
            wait_for(
                lambda: Invitation.objects.get(pk=invitation.pk).status == Invitation.Status.SENT,
                timeout=60,
            )
    finally:
        sink.stop()
    assert sink.count_to("friend@example.org") == 1
