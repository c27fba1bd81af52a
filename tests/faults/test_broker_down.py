"""The broker is down while customers invite and partners post conversions: the
requests still succeed (rows committed, work left for the sweepers), and once the
broker is back the sweepers finish everything, once."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from loyalty.audit import ledger_audit
from loyalty.models import Transaction
from loyalty.tasks import ledger_settle_due
from partners.models import WebhookEvent
from partners.tasks import webhook_deliver_due
from referrals.models import Invitation
from referrals.tasks import invitations_sweep
from tests.factories import CustomerFactory
from tests.faults.conftest import producer_broker
from tests.partners.factories import PartnerFactory
from tests.partners.test_webhooks import Receiver
from tests.support import CeleryWorker, PartnerClient, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

FRIENDS = ["ada@example.org", "bo@example.org", "cy@example.org"]


@pytest.fixture
def receiver():
    started = Receiver()
    yield started
    started.stop()


def _everything_done() -> bool:
    return (
        not Invitation.objects.exclude(status=Invitation.Status.SENT).exists()
        and not Transaction.objects.filter(status=Transaction.Status.PENDING).exists()
        and not WebhookEvent.objects.exclude(status=WebhookEvent.Status.DELIVERED).exists()
    )


def test_requests_succeed_while_the_broker_is_down_and_sweepers_finish_once(
    redis_server, smtp_sink, receiver, client, default_program
):
    shop = PartnerClient(PartnerFactory(webhook_url=receiver.url))
    rita = CustomerFactory(first_name="Rita")
    fred = shop.post(
        "/api/v1/customers/",
        {"external_id": "f-1", "email": "fred@example.com", "referral_code": rita.referral_code},
    ).json()
    anna = CustomerFactory()
    client.force_login(anna.user)

    with producer_broker(redis_server.url):
        redis_server.stop()
        invited = client.post(
            reverse("referrals:invite"), {"addresses": " ".join(FRIENDS), "note": "Try it"}
        )
        assert invited.status_code == 302
        bought = shop.post(
            "/api/v1/conversions/",
            {"customer": fred["id"], "order_id": "A-1", "amount": "120.00", "currency": "EUR"},
        )
        assert bought.status_code == 201, bought.content
        assert bought.json()["referral_reward"]["status"] == "pending"
        assert Invitation.objects.filter(status=Invitation.Status.QUEUED).count() == 3
        assert WebhookEvent.objects.filter(status=WebhookEvent.Status.PENDING).exists()

        redis_server.start()
        worker = CeleryWorker(
            env={
                "REDIS_URL": redis_server.url,
                "EMAIL_URL": smtp_sink.url,
                "EMAIL_RETRY_BACKOFF": "1",
                "INVITATION_SWEEP_AFTER_SECONDS": "0",
            }
        ).start()
        try:
            # The hold (return window) passes.
            Transaction.objects.filter(status=Transaction.Status.PENDING).update(
                settles_at=timezone.now() - timedelta(seconds=1)
            )
            # What beat does, and twice: sweeps overlap after an outage.
            for _ in range(2):
                invitations_sweep.delay()
                webhook_deliver_due.delay()
                ledger_settle_due.delay()
            wait_for(_everything_done, timeout=90)
            wait_for(worker.idle, timeout=30)
        finally:
            worker.stop()

    invitations = [message["To"] for message in smtp_sink.messages if message["To"] in FRIENDS]
    assert sorted(invitations) == FRIENDS
    delivered = [json.loads(body)["id"] for _headers, body in receiver.requests]
    assert len(delivered) == len(set(delivered)) == WebhookEvent.objects.count()
    assert {"referral.qualified", "reward.settled"} <= set(
        WebhookEvent.objects.values_list("type", flat=True)
    )
    assert ledger_audit().clean
