import datetime as dt
import hashlib
import hmac
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import stripe
from django.contrib.admin.models import LogEntry
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer
from loyalty import ledger
from loyalty.models import Transaction
from loyalty.vouchers import reward_redeem
from partners import tasks, webhooks
from partners.links import link_answer
from partners.models import WebhookDelivery, WebhookEvent
from partners.services import partner_customer_upsert
from reviews.services import review_publish
from tests.factories import CustomerFactory
from tests.loyalty.factories import RewardFactory, settled_points
from tests.partners.contract import validate_webhook_body
from tests.partners.factories import PartnerFactory
from tests.reviews.factories import ReviewFactory
from tests.support import CeleryWorker, free_port, wait_for

pytestmark = pytest.mark.django_db


class Receiver:
    """A partner's webhook endpoint on loopback: answers `statuses` in turn, then 200."""

    def __init__(self, statuses=(), delay=0.0):
        self.statuses = list(statuses)
        self.delay = delay
        self.requests: list[tuple[dict, bytes]] = []
        self.off_schema: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                try:
                    validate_webhook_body(body)
                except Exception as mismatch:
                    receiver.off_schema.append(f"{body!r}: {mismatch!r}")
                time.sleep(receiver.delay)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    started = Receiver(statuses=[500, 503])
    yield started
    started.stop()
    assert not started.off_schema, "webhook bodies the schema does not describe"


def _partner_with_customer(url, email="anna@example.com"):
    partner = PartnerFactory(webhook_url=url)
    customer, _link, _created = partner_customer_upsert(
        partner=partner, external_id="c-1", email=email
    )
    return partner, customer


def _verify(partner, headers, body):
    """What a partner does: check the HMAC of "<t>.<raw body>" with its secret."""
    fields = dict(part.split("=", 1) for part in headers["Kindred-Signature"].split(","))
    expected = hmac.new(
        partner.webhook_secret.encode(), f"{fields['t']}.".encode() + body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(fields["v1"], expected)
    assert abs(int(fields["t"]) - time.time()) < 60


def _due(event):
    WebhookEvent.objects.filter(pk=event.pk).update(next_attempt_at=timezone.now())


def test_settled_reward_is_retried_until_accepted_with_one_event_id(receiver):
    partner, customer = _partner_with_customer(receiver.url)
    PartnerFactory(webhook_url=receiver.url)  # not linked: hears nothing
    pending = ledger.points_award(
        customer=customer, points=70, kind="referral_reward", memo="Thanks",
        settles_at=timezone.now(),
    )  # fmt: skip
    ledger.settle_due()
    event = WebhookEvent.objects.get()
    assert event.partner == partner and event.type == "reward.settled"

    assert webhooks.webhook_deliver(event_id=event.pk) is False
    event.refresh_from_db()
    assert event.attempts == 1 and event.status == "pending"
    assert event.next_attempt_at > timezone.now() + dt.timedelta(seconds=20)
    assert webhooks.webhook_deliver(event_id=event.pk) is None  # not due yet
    _due(event)
    assert webhooks.webhook_deliver(event_id=event.pk) is False
    _due(event)
    assert webhooks.webhook_deliver(event_id=event.pk) is True

    event.refresh_from_db()
    assert event.status == "delivered" and event.attempts == 3 and event.delivered_at
    assert list(event.deliveries.order_by("attempt").values_list("response_status", flat=True)) == [
        500, 503, 200,
    ]  # fmt: skip
    assert len(receiver.requests) == 3
    payloads = [json.loads(body) for _headers, body in receiver.requests]
    assert {payload["id"] for payload in payloads} == {str(event.public_id)}
    payload = payloads[0]
    assert set(payload) == {"id", "type", "created_at", "data"}
    assert payload["type"] == "reward.settled"
    assert payload["data"]["transaction"] == str(pending.public_id)
    assert payload["data"]["customer"] == str(customer.public_id)
    assert payload["data"]["points"] == 70 and payload["data"]["status"] == "posted"
    for headers, body in receiver.requests:
        _verify(partner, headers, body)


def test_a_forged_signature_does_not_verify(receiver):
    partner, customer = _partner_with_customer(receiver.url)
    receiver.statuses = []
    ledger.points_award(
        customer=customer, points=5, kind="earn", memo="x", settles_at=timezone.now()
    )
    ledger.settle_due()
    webhooks.webhook_deliver(event_id=WebhookEvent.objects.get().pk)
    headers, body = receiver.requests[0]
    with pytest.raises(AssertionError):
        _verify(partner, headers, body.replace(b'"points":5', b'"points":500'))


def test_a_timeout_is_logged_and_retried(settings):
    settings.PARTNER_WEBHOOK_TIMEOUT = 1
    slow = Receiver(delay=2)
    try:
        _partner, customer = _partner_with_customer(slow.url)
        pending = ledger.points_award(
            customer=customer, points=5, kind="earn", memo="x", settles_at=timezone.now()
        )
        ledger.void(transaction=pending, reason="Refunded")
        event = WebhookEvent.objects.get(type="reward.voided")
        assert webhooks.webhook_deliver(event_id=event.pk) is False
    finally:
        slow.stop()
    delivery = WebhookDelivery.objects.get()
    assert delivery.response_status is None and "timed out" in delivery.error.lower()
    assert delivery.duration_ms >= 900
    assert WebhookEvent.objects.get().status == "pending"


def test_unreachable_partner_is_given_up_after_the_retry_window():
    _partner, customer = _partner_with_customer(f"http://127.0.0.1:{free_port()}/closed")
    pending = ledger.points_award(
        customer=customer, points=5, kind="earn", memo="x", settles_at=timezone.now()
    )
    ledger.void(transaction=pending, reason="Refunded")
    event = WebhookEvent.objects.get()
    assert webhooks.webhook_deliver(event_id=event.pk) is False
    assert WebhookEvent.objects.get().status == "pending"
    WebhookEvent.objects.filter(pk=event.pk).update(
        created_at=timezone.now() - webhooks.RETRY_WINDOW, next_attempt_at=timezone.now()
    )
    assert webhooks.webhook_deliver(event_id=event.pk) is False
    event.refresh_from_db()
    assert event.status == "failed" and event.attempts == 2
    assert "URLError" in event.deliveries.first().error


def test_backoff_doubles_up_to_a_cap_and_retries_span_more_than_a_day(settings):
    settings.PARTNER_WEBHOOK_RETRY_BASE_SECONDS = 30
    assert [webhooks.backoff(n).total_seconds() for n in (1, 2, 3)] == [30, 60, 120]
    assert webhooks.backoff(30) == webhooks.MAX_BACKOFF
    assert dt.timedelta(hours=24) <= webhooks.RETRY_WINDOW


def test_only_partners_linked_with_a_webhook_url_get_events():
    customer = CustomerFactory()
    with_url = PartnerFactory(webhook_url="http://127.0.0.1:9/hooks")
    without_url = PartnerFactory()
    inactive = PartnerFactory(webhook_url="http://127.0.0.1:9/hooks")
    for partner in (with_url, without_url, inactive):
        partner_customer_upsert(partner=partner, external_id="x", email=customer.user.email)
    inactive.active = False
    inactive.save()
    ledger.points_award(
        customer=customer, points=5, kind="earn", memo="x", settles_at=timezone.now()
    )
    ledger.settle_due()
    assert list(WebhookEvent.objects.values_list("partner", flat=True)) == [with_url.pk]


def test_events_are_queued_only_when_the_change_commits(
    monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(tasks.webhook_deliver, "delay", queued.append)
    _partner, customer = _partner_with_customer("http://127.0.0.1:9/hooks")
    settled_points(customer, 500)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        reward_redeem(customer=customer, reward=RewardFactory())
    event = WebhookEvent.objects.get(type="voucher.issued")
    assert queued == []
    for callback in callbacks:
        callback()
    assert queued == [event.pk]
    assert event.data["customer"] == str(customer.public_id)
    assert event.data["status"] == "active" and len(event.data["code"]) >= 12


def test_a_rolled_back_change_leaves_no_event():

    _partner, customer = _partner_with_customer("http://127.0.0.1:9/hooks")
    with pytest.raises(RuntimeError), transaction.atomic():
        ledger.points_award(
            customer=customer, points=5, kind="earn", memo="x", settles_at=timezone.now()
        )
        ledger.settle_due()
        raise RuntimeError("rolled back")
    assert not WebhookEvent.objects.exists()


def test_referral_qualified_reaches_partners_of_both_customers_once(api, monkeypatch):
    monkeypatch.setattr(tasks.webhook_deliver, "delay", lambda pk: None)
    api.partner.webhook_url = "http://127.0.0.1:9/hooks"
    api.partner.save()
    referrer = api.post(
        "/api/v1/customers/", {"external_id": "r", "email": "rita@example.com"}
    ).json()
    friend = api.post(
        "/api/v1/customers/",
        {
            "external_id": "f",
            "email": "fred@example.com",
            "referral_code": referrer["referral_code"],
        },
    ).json()
    api.post(
        "/api/v1/conversions/",
        {"customer": friend["id"], "order_id": "A-1", "amount": "10.00", "currency": "EUR"},
    )
    event = WebhookEvent.objects.get(type="referral.qualified")
    assert event.partner == api.partner
    assert event.data["referrer"] == referrer["id"] and event.data["customer"] == friend["id"]
    assert event.data["reward"]["points"] == 500 and event.data["reward"]["status"] == "pending"


def test_sweeper_queues_due_events_and_staff_can_resend(
    admin_client, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(tasks.webhook_deliver, "delay", queued.append)
    _partner, customer = _partner_with_customer("http://127.0.0.1:9/hooks")
    pending = ledger.points_award(
        customer=customer, points=5, kind="earn", memo="x", settles_at=timezone.now()
    )
    ledger.void(transaction=pending, reason="Refunded")
    event = WebhookEvent.objects.get()
    assert tasks.webhook_deliver_due() == 1 and queued == [event.pk]
    WebhookEvent.objects.filter(pk=event.pk).update(status="failed", next_attempt_at=None)
    assert tasks.webhook_deliver_due() == 0
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:partners_webhookevent_changelist"),
            {"action": "resend", "_selected_action": [event.pk]},
            follow=True,
        )
    assert queued == [event.pk, event.pk]
    assert response.status_code == 200 and "1 event queued" in response.content.decode()
    event.refresh_from_db()
    assert event.status == "pending" and event.next_attempt_at <= timezone.now()
    page = admin_client.get(reverse("admin:partners_webhookevent_change", args=[event.pk]))
    assert page.status_code == 200
    assert Transaction.objects.filter(status="voided").count() == 1


@pytest.fixture
def webhook_worker(transactional_db):
    """A real worker on the webhooks queue only: the routing by task name is tested too."""

    worker = CeleryWorker(queues="webhooks").start()
    yield worker
    worker.stop()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_and_the_sweeper_retries(webhook_worker):

    receiver = Receiver(statuses=[502])
    try:
        partner, customer = _partner_with_customer(receiver.url)
        ledger.points_award(
            customer=customer, points=40, kind="earn", memo="x", settles_at=timezone.now()
        )
        ledger.settle_due()
        event = WebhookEvent.objects.get()
        wait_for(lambda: WebhookEvent.objects.get(pk=event.pk).attempts == 1, timeout=60)
        WebhookEvent.objects.filter(pk=event.pk).update(next_attempt_at=timezone.now())
        assert tasks.webhook_deliver_due() == 1
        wait_for(lambda: WebhookEvent.objects.get(pk=event.pk).status == "delivered", timeout=60)
    finally:
        receiver.stop()
    assert len(receiver.requests) == 2
    assert {json.loads(body)["id"] for _headers, body in receiver.requests} == {
        str(event.public_id)
    }
    for headers, body in receiver.requests:
        _verify(partner, headers, body)
    assert "webhook_deliver" in webhook_worker.log()


def _deliver_settled_points(partner, customer, receiver, points=5):
    """Settle points for the customer and deliver the event; the request the partner got."""
    ledger.points_award(
        customer=customer, points=points, kind="earn", memo="x", settles_at=timezone.now()
    )
    ledger.settle_due()
    event = WebhookEvent.objects.filter(partner=partner).order_by("-id").first()
    assert webhooks.webhook_deliver(event_id=event.pk) is True
    return receiver.requests[-1]


def test_stripes_sdk_verifies_every_signature(receiver):
    partner, customer = _partner_with_customer(receiver.url)
    receiver.statuses = []
    headers, body = _deliver_settled_points(partner, customer, receiver)
    header = headers["Kindred-Signature"]
    assert stripe.WebhookSignature.verify_header(
        body.decode(), header, partner.webhook_secret, tolerance=300
    )
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(
            body.decode(), header, "whsec_not-the-secret", tolerance=300
        )
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(
            body.decode().replace('"points":5', '"points":6'), header, partner.webhook_secret
        )


def test_a_rotated_secret_signs_alongside_the_new_one_until_it_expires(receiver, admin_user):
    partner, customer = _partner_with_customer(receiver.url)
    receiver.statuses = []
    old_secret = partner.webhook_secret
    partner = webhooks.webhook_secret_rotate(partner=partner, actor=admin_user)
    assert partner.webhook_secret != old_secret and partner.webhook_secret.startswith("whsec_")
    assert partner.webhook_secret_rotated_by == admin_user

    headers, body = _deliver_settled_points(partner, customer, receiver)
    header = headers["Kindred-Signature"]
    assert header.count("v1=") == 2
    for secret in (partner.webhook_secret, old_secret):
        assert stripe.WebhookSignature.verify_header(body.decode(), header, secret)

    partner.previous_webhook_secret_expires_at = timezone.now() - dt.timedelta(seconds=1)
    partner.save()
    headers, body = _deliver_settled_points(partner, customer, receiver)
    header = headers["Kindred-Signature"]
    assert header.count("v1=") == 1
    assert stripe.WebhookSignature.verify_header(body.decode(), header, partner.webhook_secret)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(body.decode(), header, old_secret)


def test_the_overlap_lasts_as_long_as_the_setting_says(settings, admin_user):
    settings.PARTNER_WEBHOOK_SECRET_OVERLAP_HOURS = 5
    partner = PartnerFactory()
    before = timezone.now()
    partner = webhooks.webhook_secret_rotate(partner=partner, actor=admin_user)
    overlap = partner.previous_webhook_secret_expires_at - before
    assert dt.timedelta(hours=5) <= overlap < dt.timedelta(hours=5, seconds=10)
    assert webhooks.webhook_signing_secrets(partner, now=before + dt.timedelta(hours=4)) == [
        partner.webhook_secret, partner.previous_webhook_secret,
    ]  # fmt: skip
    assert webhooks.webhook_signing_secrets(partner, now=before + dt.timedelta(hours=6)) == [
        partner.webhook_secret
    ]


def test_staff_rotate_a_secret_in_the_admin_and_the_change_is_logged(admin_client, admin_user):
    partner = PartnerFactory()
    old_secret = partner.webhook_secret
    response = admin_client.post(
        reverse("admin:partners_partner_changelist"),
        {"action": "rotate_webhook_secret", "_selected_action": [partner.pk]},
    )
    assert response.status_code == 302
    partner.refresh_from_db()
    assert partner.previous_webhook_secret == old_secret != partner.webhook_secret
    assert partner.previous_webhook_secret_expires_at > timezone.now()
    entry = LogEntry.objects.get(object_id=str(partner.pk))
    assert entry.user == admin_user and "webhook secret" in entry.get_change_message()
    page = admin_client.get(reverse("admin:partners_partner_change", args=[partner.pk]))
    assert partner.webhook_secret in page.content.decode()


def test_a_refund_after_settlement_announces_the_reversal(api, linked_customer, receiver):
    receiver.statuses = []
    api.partner.webhook_url = receiver.url
    api.partner.save()
    conversion = api.post(
        "/api/v1/conversions/",
        {"customer": linked_customer["id"], "order_id": "A-1", "amount": "100.00",
         "currency": "EUR"},
    ).json()  # fmt: skip
    assert conversion["points_earned"] == 100
    WebhookEvent.objects.all().delete()
    api.post(f"/api/v1/conversions/{conversion['id']}/refund/", {"amount": "40.00"})

    event = WebhookEvent.objects.get()
    assert event.type == "reward.reversed" and event.partner == api.partner
    assert webhooks.webhook_deliver(event_id=event.pk) is True
    payload = validate_webhook_body(receiver.requests[-1][1])
    assert payload["data"]["customer"] == linked_customer["id"]
    assert payload["data"]["points"] == -40 and payload["data"]["kind"] == "reversal"
    history = api.get(f"/api/v1/customers/{linked_customer['id']}/transactions/").json()
    assert payload["data"]["transaction"] in {row["id"] for row in history["results"]}
    assert api.get(f"/api/v1/customers/{linked_customer['id']}/").json()["points"] == {
        "balance": 60, "pending": 0,
    }  # fmt: skip


def test_a_repeated_reversal_key_announces_nothing_twice(receiver):
    _partner, customer = _partner_with_customer(receiver.url)
    earned = ledger.points_award(customer=customer, points=50, kind="earn", memo="x")
    for _attempt in range(2):
        ledger.reverse(transaction=earned, reason="Refund", points=10, idempotency_key="r-1")
    assert WebhookEvent.objects.filter(type="reward.reversed").count() == 1


def test_times_have_one_shape_in_the_api_the_envelope_and_the_data(api, linked_customer, receiver):
    receiver.statuses = []
    api.partner.webhook_url = receiver.url
    api.partner.save()
    shape = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
    customer = CustomerFactory()
    partner_customer_upsert(partner=api.partner, external_id="c-2", email=customer.user.email)
    _headers, body = _deliver_settled_points(api.partner, customer, receiver)
    payload = json.loads(body)
    assert shape.match(payload["created_at"]), payload["created_at"]
    assert shape.match(payload["data"]["settled_at"]), payload["data"]["settled_at"]
    assert shape.match(linked_customer["created_at"]), linked_customer["created_at"]
    redemption_expiry = reward_redeem(
        customer=customer, reward=RewardFactory(points_cost=5)
    ).voucher.expires_at
    voucher_event = WebhookEvent.objects.get(type="voucher.issued")
    assert shape.match(voucher_event.data["expires_at"])
    assert voucher_event.data["expires_at"] == redemption_expiry.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_every_event_type_is_written_as_the_schema_describes_it(api, monkeypatch, admin_user):
    """One real event of each type, from the code that writes it, checked against the
    schema's `webhooks` section."""
    monkeypatch.setattr(tasks.webhook_deliver, "delay", lambda pk: None)
    own = api.partner
    own.webhook_url = "http://127.0.0.1:9/hooks"
    own.save()
    merchant = PartnerFactory(kind="merchant", webhook_url="http://127.0.0.1:9/hooks")
    referrer = api.post("/api/v1/customers/", {"external_id": "r", "email": "rita@example.com"})
    friend = api.post(
        "/api/v1/customers/",
        {"external_id": "f", "email": "fred@example.com",
         "referral_code": referrer.json()["referral_code"]},
    ).json()  # fmt: skip
    customer = Customer.objects.get(public_id=friend["id"])
    api.post(
        "/api/v1/conversions/",
        {"customer": friend["id"], "order_id": "A-1", "amount": "10.00", "currency": "EUR"},
    )
    pending = ledger.points_award(
        customer=customer, points=5, kind="earn", memo="x", settles_at=timezone.now()
    )
    ledger.void(transaction=pending, reason="Refund")
    ledger.points_award(
        customer=customer, points=200, kind="earn", memo="x", settles_at=timezone.now()
    )
    ledger.settle_due()
    ledger.reverse(transaction=settled_points(customer, 50), reason="Correction", points=10)
    reward_redeem(customer=customer, reward=RewardFactory(points_cost=100))
    review_publish(review=ReviewFactory(author=customer, status="pending"), by=admin_user)
    _customer, said_yes, _created = partner_customer_upsert(
        partner=merchant, external_id="m-1", email="fred@example.com"
    )
    link_answer(link_id=said_yes.pk, accept=True)
    _customer, said_no, _created = partner_customer_upsert(
        partner=merchant, external_id="m-2", email="rita@example.com"
    )
    link_answer(link_id=said_no.pk, accept=False)

    written = set()
    for event in WebhookEvent.objects.all():
        validate_webhook_body(webhooks.webhook_body(event))
        written.add(event.type)
    assert written == set(WebhookEvent.Type.values)
