"""Hostile bodies to the partner API: too large, too deep, wrong type, odd characters,
extra fields. Every one is a clear 4xx that changes nothing, never a 500."""

from __future__ import annotations

import itertools
import json

import pytest

from customers.models import Customer, User
from tests.partners.factories import PartnerFactory
from tests.support import PartnerClient

pytestmark = pytest.mark.django_db

WRITES = ["/api/v1/customers/", "/api/v1/conversions/", "/api/v1/redemptions/"]


@pytest.fixture
def api(settings):
    settings.PARTNER_API_RATE = "1000000/minute"
    return PartnerClient(PartnerFactory())


_keys = itertools.count()


def _raw(api, path, body: bytes | str, content_type="application/json", **extra):
    return api.generic(
        "POST", path, body, content_type=content_type,
        HTTP_IDEMPOTENCY_KEY=f"raw-{next(_keys)}", **extra,
    )  # fmt: skip


@pytest.mark.parametrize("path", WRITES)
@pytest.mark.parametrize("depth", [33, 1_000, 10_000])
def test_deeply_nested_json_is_a_400(api, path, depth):
    for body in ("[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth):
        response = _raw(api, path, body)
        assert response.status_code == 400, (depth, response.content[:200])
    assert Customer.objects.count() == 0


def test_json_as_deep_as_the_limit_is_parsed(api):
    """The limit is on nesting only: 32 levels reach validation, which names the fields."""
    name: list = []
    for _ in range(30):
        name = [name]  # 31 levels, 32 with the body around it
    response = api.post("/api/v1/customers/", {"external_id": "x", "email": "a@example.com",
                                               "first_name": name})  # fmt: skip
    assert response.status_code == 400 and "first_name" in response.json()


@pytest.mark.parametrize("path", WRITES)
def test_oversized_body_is_a_413_and_changes_nothing(api, settings, path):
    body = json.dumps({"external_id": "x", "email": "a@example.com",
                       "first_name": "A" * settings.PARTNER_API_MAX_BODY_BYTES})  # fmt: skip
    response = _raw(api, path, body)
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"
    assert Customer.objects.count() == 0


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
     "application/xml", "application/json-patch+json", ""],
)  # fmt: skip
def test_a_body_that_is_not_json_is_a_415(api, content_type):
    body = '{"external_id": "x", "email": "a@example.com"}'
    response = _raw(api, "/api/v1/customers/", body, content_type=content_type)
    assert response.status_code == 415, response.content
    assert Customer.objects.count() == 0


@pytest.mark.parametrize(
    "body",
    [b'{"external_id": "x", "email": "a@example.com"', b"\xff\xfe{}", b'{"a": NaN}',
     b"[]", b"null", b'"text"', b"", b'{"external_id": "x"}{"email": "a@example.com"}'],
)  # fmt: skip
def test_malformed_json_is_a_400(api, body):
    response = _raw(api, "/api/v1/customers/", body)
    assert response.status_code == 400, response.content
    assert Customer.objects.count() == 0


HOSTILE_NAMES = ["Anna\x00Kim", "Anna\r\nBcc: victim@example.com", "\u202egnp.exe", "Anna\x1b[31m",
                 "An\u200bna"]  # fmt: skip
HOSTILE_EMAILS = ["anna@example.com\r\nBcc: victim@example.com", "anna\x00@example.com",
                  "anna@exa mple.com", "<anna@example.com>"]  # fmt: skip


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_control_characters_in_api_names_are_refused(api, name):
    body = {"external_id": "x", "email": "a@example.com", "first_name": name}
    response = api.post("/api/v1/customers/", body)
    assert response.status_code == 400 and "first_name" in response.json()
    assert Customer.objects.count() == 0


@pytest.mark.parametrize("email", HOSTILE_EMAILS)
def test_hostile_api_emails_are_refused(api, email):
    response = api.post("/api/v1/customers/", {"external_id": "x", "email": email})
    assert response.status_code == 400 and "email" in response.json()
    assert User.objects.count() == 0


def test_unicode_names_and_addresses_are_welcome(api):
    response = api.post(
        "/api/v1/customers/",
        {"external_id": "x", "email": "zoe@例え.jp", "first_name": "Zoë", "last_name": "Ōtani"},
    )
    assert response.status_code == 201, response.content
    assert response.json()["first_name"] == "Zoë"


def test_extra_fields_in_an_api_body_change_nothing(api):
    response = api.post(
        "/api/v1/customers/",
        {"external_id": "x", "email": "a@example.com", "points": 5000, "balance": 5000,
         "tier": "Gold", "referred_by": "SOMECODE", "is_staff": True, "is_superuser": True,
         "status": "active", "id": "00000000-0000-0000-0000-000000000000"},
    )  # fmt: skip
    assert response.status_code in (201, 400), response.content
    customer = Customer.objects.select_related("user").get()
    assert not customer.user.is_staff and not customer.user.is_superuser
    assert str(customer.public_id) != "00000000-0000-0000-0000-000000000000"
    body = api.get(f"/api/v1/customers/{customer.public_id}/").json()
    assert body["points"] == {"balance": 0, "pending": 0} and body["referred_by"] is None


def test_extra_fields_in_a_conversion_change_nothing(api):
    customer = api.post("/api/v1/customers/", {"external_id": "x", "email": "a@example.com"})
    customer_id = customer.json()["id"]
    response = api.post(
        "/api/v1/conversions/",
        {"customer": customer_id, "order_id": "A-1", "amount": "10.00", "currency": "EUR",
         "status": "settled", "points_earned": 99999, "points": 99999, "channel": "admin",
         "referral_reward": {"points": 99999, "status": "posted"}},
    )  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "recorded" and body["points_earned"] < 99999
    points = api.get(f"/api/v1/customers/{customer_id}/").json()["points"]
    assert points["balance"] + points["pending"] == body["points_earned"]
