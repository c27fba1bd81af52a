"""The broker is down while customers invite and partners post conversions: the
requests still succeed (rows committed, work left for the sweepers), and once the
broker is back the sweepers finish everything, once."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import OutboxEmail
from core.tasks import outbox_emails_sweep
from customers.models import User
from customers.privacy import data_export_build, data_export_request
from customers.services import connection_befriend, customer_welcome
from loyalty.audit import ledger_audit
from loyalty.expiry import add_months, expiry_reminders_queue
from loyalty.gifts import gift_to_friend
from loyalty.ledger import settle_due
from loyalty.models import Account, EarnRule, SettledBatchEmails, Transaction
from loyalty.tasks import email_rewards_settled_sweep, ledger_settle_due
from loyalty.vouchers import reward_redeem
from partners.models import Partner, WebhookEvent
from partners.tasks import webhook_deliver_due
from referrals.invitations import invitation_message_id, invitations_create, invitations_remind_due
from referrals.models import Invitation
from referrals.tasks import invitations_sweep
from reviews.alerts import alert_raise
from reviews.models import FeedbackAlert, Survey
from reviews.surveys import survey_send
from tests.factories import CustomerFactory, purchase
from tests.faults.conftest import producer_broker
from tests.loyalty.factories import RewardFactory, settled_points
from tests.partners.factories import PartnerFactory
from tests.partners.test_webhooks import Receiver
from tests.reviews.factories import ReviewFactory
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


def _stored(step) -> list[int]:
    """Run `step`; the ids of the outbox emails it stored."""
    before = set(OutboxEmail.objects.values_list("pk", flat=True))
    step()
    return sorted(set(OutboxEmail.objects.values_list("pk", flat=True)) - before)


def test_no_email_of_any_kind_is_lost_while_the_broker_is_down(
    redis_server, smtp_sink, client, default_program, settings
):
    settings.EMAIL_OUTBOX_SEND_AT_ONCE = False
    shop = PartnerClient(PartnerFactory())
    merchant = PartnerClient(PartnerFactory(kind=Partner.Kind.MERCHANT))
    rita = CustomerFactory(first_name="Rita")
    anna = CustomerFactory(marketing_consent=True)
    ben = CustomerFactory()
    connection_befriend(customer=anna, other=ben)
    settled_points(anna, 500)
    reward = RewardFactory(points_cost=100)
    EarnRule.objects.update(inactivity_expiry_months=12)
    idle = CustomerFactory()
    settled_points(idle, 50)
    Account.objects.filter(customer=idle).update(
        last_activity_at=add_months(timezone.now(), -12) + timedelta(days=20)
    )
    (reminded,) = invitations_create(sender=anna, addresses="old-friend@example.org").invited
    Invitation.objects.filter(pk=reminded.pk).update(
        status=Invitation.Status.SENT, sent_at=timezone.now() - timedelta(days=30)
    )
    client.force_login(anna.user)
    User.objects.create_user(email="staff@example.com", is_staff=True)

    kinds: dict[str, list[int]] = {}
    with producer_broker(redis_server.url):
        redis_server.stop()

        def invite():
            response = client.post(reverse("referrals:invite"), {"addresses": "new@example.org"})
            assert response.status_code == 302

        def buy():
            fred = shop.post(
                "/api/v1/customers/",
                {"external_id": "f-1", "email": "fred@example.com",
                 "referral_code": rita.referral_code},
            )  # fmt: skip
            assert fred.status_code == 201, fred.content
            bought = shop.post(
                "/api/v1/conversions/",
                {"customer": fred.json()["id"], "order_id": "A-1", "amount": "120.00",
                 "currency": "EUR"},
            )  # fmt: skip
            assert bought.status_code == 201, bought.content

        def settle():
            Transaction.objects.filter(status=Transaction.Status.PENDING).update(
                settles_at=timezone.now() - timedelta(seconds=1)
            )
            assert settle_due() > 0

        def survey():
            bought = purchase(anna)
            due = Survey.objects.create(customer=anna, conversion=bought, send_after=timezone.now())
            assert survey_send(survey_id=due.pk)

        def link_request():
            response = merchant.post(
                "/api/v1/customers/", {"external_id": "m-1", "email": ben.user.email}
            )
            assert response.status_code == 202, response.content

        def password_reset():
            response = client.post(reverse("account_reset_password"), {"email": ben.user.email})
            assert response.status_code == 302

        def data_export():
            export = data_export_request(customer=ben, source="customer")
            assert data_export_build(export_id=export.pk)

        steps = {
            "invitation": invite,
            "welcome gift": buy,
            "reward settled": settle,
            "gift received": lambda: gift_to_friend(sender=anna, recipient=ben, points=20),
            "voucher": lambda: reward_redeem(customer=anna, reward=reward),
            "welcome": lambda: customer_welcome(customer=ben),
            "survey": survey,
            "points expiring": lambda: expiry_reminders_queue(),
            "invitation reminder": lambda: invitations_remind_due(),
            "feedback alert": lambda: alert_raise(
                kind=FeedbackAlert.Kind.LOW_RATING, customer=anna, review=ReviewFactory(rating=1)
            ),
            "partner link request": link_request,
            "password reset": password_reset,
            "data export ready": data_export,
        }
        for kind, step in steps.items():
            kinds[kind] = _stored(step)
        # The invitation is its own outbox (its row), and a settlement batch stores the
        # promise of its emails; every other kind stored an email.
        assert [kind for kind, ids in kinds.items() if not ids] == [
            "invitation",
            "reward settled",
        ]
        assert SettledBatchEmails.objects.filter(emailed_at=None).count() == 1
        assert not OutboxEmail.objects.exclude(status=OutboxEmail.Status.PENDING).exists()

        redis_server.start()
        worker = CeleryWorker(
            env={
                "REDIS_URL": redis_server.url,
                "EMAIL_URL": smtp_sink.url,
                "EMAIL_OUTBOX_SWEEP_AFTER_SECONDS": "0",
                "INVITATION_SWEEP_AFTER_SECONDS": "0",
            }
        ).start()
        try:
            # What beat does, and twice: sweeps overlap after an outage.
            for _ in range(2):
                email_rewards_settled_sweep.delay()
                outbox_emails_sweep.delay()
                invitations_sweep.delay()
            wait_for(
                lambda: (
                    not SettledBatchEmails.objects.filter(emailed_at=None).exists()
                    and OutboxEmail.objects.filter(to=rita.user.email).exists()
                    and not OutboxEmail.objects.exclude(status=OutboxEmail.Status.SENT).exists()
                    and not Invitation.objects.filter(status=Invitation.Status.QUEUED).exists()
                ),
                timeout=90,
            )
            wait_for(worker.idle, timeout=30)
        finally:
            worker.stop()

    received = [message["Message-ID"] for message in smtp_sink.messages]
    stored = list(OutboxEmail.objects.values_list("message_id", flat=True))
    invitation = Invitation.objects.get(email="new@example.org")
    # Each email once; had one gone twice, its copies would carry one Message-ID.
    assert sorted(received) == sorted([*stored, invitation_message_id(invitation)])
    assert len(set(received)) == len(received)
