from __future__ import annotations

import io
import json
import logging

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from config.logs import JsonFormatter
from loyalty.models import Reward
from partners.services import partner_customer_upsert
from tests.factories import PASSWORD, CustomerFactory
from tests.loyalty.factories import RewardFactory, settled_points
from tests.partners.factories import PartnerFactory
from tests.partners.test_webhooks import Receiver
from tests.support import CeleryWorker, PartnerClient, wait_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def request_lines():
    """The JSON lines the request logger writes, as the configured formatter writes them."""
    logger = logging.getLogger("kindred.requests")
    configured = [h for h in logger.handlers if isinstance(h.formatter, JsonFormatter)]
    assert len(configured) == 1
    assert not logger.propagate
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(configured[0].formatter)
    logger.addHandler(handler)
    lines: list[str] = []

    def read() -> list[dict]:
        lines.extend(stream.getvalue().splitlines())
        stream.seek(0)
        stream.truncate()
        return [json.loads(line) for line in lines]

    yield read, lines
    logger.removeHandler(handler)


def test_one_json_line_per_request_with_ids_and_no_personal_data(client, request_lines):
    read, raw = request_lines
    customer = CustomerFactory(email="anna.secret@example.com")
    EmailAddress.objects.create(
        user=customer.user, email=customer.user.email, verified=True, primary=True
    )
    partner = PartnerFactory()
    partner_customer_upsert(partner=partner, external_id="c-1", email="anna.secret@example.com")

    signed_in = client.post(
        "/accounts/login/?next=/me/dashboard/&email=anna.secret@example.com",
        {"login": "anna.secret@example.com", "password": PASSWORD},
    )
    dashboard = client.get("/me/dashboard/")
    api = PartnerClient(partner).get("/api/v1/customers/?email=anna.secret@example.com")
    assert api.status_code == 200

    login_line, dashboard_line, api_line = read()
    assert login_line["route"] == "/accounts/login/"
    assert login_line["method"] == "POST"
    assert login_line["status"] == signed_in.status_code
    assert login_line["request_id"] == signed_in["X-Request-Id"]
    assert dashboard_line == {
        **dashboard_line,
        "logger": "kindred.requests",
        "route": "/me/dashboard/",
        "status": 200,
        "request_id": dashboard["X-Request-Id"],
        "user_id": customer.user.pk,
        "customer_id": customer.pk,
    }
    assert dashboard_line["duration_ms"] > 0
    assert dashboard_line["db_queries"] > 0
    assert api_line["partner_id"] == partner.pk
    assert api_line["route"] == "/api/v1/customers/"
    assert "customer_id" not in api_line
    assert len({line["request_id"] for line in read()}) == 3
    text = "\n".join(raw)
    for secret in ("anna.secret", "example.com", PASSWORD, partner.key, "sessionid"):
        assert secret not in text


def test_a_proxy_request_id_is_kept_and_a_strange_one_replaced(client, request_lines):
    read, _raw = request_lines
    kept = client.get("/health/live/", HTTP_X_REQUEST_ID="edge-4f1c2a9b")
    replaced = client.get("/health/live/", HTTP_X_REQUEST_ID="anna@example.com\nfake line")
    assert kept["X-Request-Id"] == "edge-4f1c2a9b"
    assert len(replaced["X-Request-Id"]) == 32
    assert [line["request_id"] for line in read()] == ["edge-4f1c2a9b", replaced["X-Request-Id"]]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_request_id_reaches_the_task_it_queues_and_the_webhook(client):
    """A redemption in the portal queues a webhook; the worker's task line and the
    partner's request carry the id the portal answered with."""
    receiver = Receiver()
    worker = CeleryWorker(queues="webhooks").start()
    try:
        partner = PartnerFactory(webhook_url=receiver.url)
        customer, _link, _created = partner_customer_upsert(
            partner=partner, external_id="c-1", email="anna@example.com"
        )
        settled_points(customer, 500)
        reward = RewardFactory(points_cost=100, kind=Reward.Kind.FREE_PRODUCT)
        client.force_login(customer.user)
        response = client.post(reverse("loyalty:redeem", args=[reward.public_id]))
        assert response.status_code == 302
        request_id = response["X-Request-Id"]
        wait_for(lambda: receiver.requests, timeout=60)
        wait_for(lambda: '"task":"partners.tasks.webhook_deliver"' in worker.log(), timeout=30)
    finally:
        worker.stop()
        receiver.stop()
    headers, _body = receiver.requests[0]
    assert headers["X-Request-Id"] == request_id
    task_lines = [
        json.loads(line)
        for line in worker.log().splitlines()
        if line.startswith("{") and '"logger":"kindred.tasks"' in line
    ]
    assert task_lines
    assert {line["task"] for line in task_lines} == {"partners.tasks.webhook_deliver"}
    assert {line["request_id"] for line in task_lines} == {request_id}
    assert {line["state"] for line in task_lines} == {"SUCCESS"}
    assert all(line["queue"] == "webhooks" for line in task_lines)
    assert "anna@example.com" not in worker.log()
