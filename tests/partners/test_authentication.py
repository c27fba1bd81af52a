import datetime as dt
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from partners.demo import DEMO_API_KEY
from partners.models import Partner, PartnerAPIKey
from partners.services import partner_api_key_create
from tests.support import PartnerClient

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/"


def _assert_401(response, code):
    assert response.status_code == 401
    assert response.json() == {"detail": response.json()["detail"], "code": code}
    assert response["WWW-Authenticate"] == "Api-Key"


def test_create_partner_prints_a_working_key_alone_on_the_last_line(capsys):
    call_command("create_partner", "Corner Shop", "--webhook-url", "https://shop.example/hooks")
    key = capsys.readouterr().out.strip().splitlines()[-1]
    partner = Partner.objects.get(name="Corner Shop")
    assert partner.webhook_url == "https://shop.example/hooks"
    assert partner.webhook_secret.startswith("whsec_")
    stored = PartnerAPIKey.objects.get(partner=partner)
    assert key not in stored.hashed_key and key.startswith(stored.prefix + ".")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert client.get(URL).status_code == 200


def test_create_partner_refuses_a_taken_name_and_a_bad_url():

    call_command("create_partner", "Shop")
    with pytest.raises(CommandError):
        call_command("create_partner", "Shop")
    with pytest.raises(CommandError):
        call_command("create_partner", "Other", "--webhook-url", "not a url")
    assert Partner.objects.count() == 1


def test_missing_key_answers_401():
    _assert_401(APIClient().get(URL), "not_authenticated")


@pytest.mark.parametrize(
    "header",
    ["Api-Key nope.nope", "Api-Key ", "Bearer {key}", "Api-Key {key}x", "Token {key}"],
)
def test_wrong_key_answers_401(partner, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header.format(key=partner.key))
    _assert_401(client.get(URL), "authentication_failed")


def test_revoked_expired_and_inactive_keys_answer_401_from_the_next_request(partner):
    """The key's row is cached after the first request; a change saved (as the admin does)
    reaches every process through the shared cache at once."""
    api_key = PartnerAPIKey.objects.get(partner=partner)
    client = PartnerClient(partner)
    assert client.get(URL).status_code == 200
    api_key.expiry_date = timezone.now() - dt.timedelta(seconds=1)
    api_key.save()
    _assert_401(client.get(URL), "authentication_failed")
    api_key.expiry_date = None
    api_key.save()
    assert client.get(URL).status_code == 200
    api_key.revoked = True
    api_key.save()
    _assert_401(client.get(URL), "authentication_failed")

    _second, partner.key = partner_api_key_create(partner=partner, name="second")
    client = PartnerClient(partner)
    assert client.get(URL).status_code == 200
    partner.active = False
    partner.save()
    _assert_401(client.get(URL), "authentication_failed")


def test_a_deleted_key_answers_401(partner):
    client = PartnerClient(partner)
    assert client.get(URL).status_code == 200
    PartnerAPIKey.objects.get(partner=partner).delete()
    _assert_401(client.get(URL), "authentication_failed")


def test_a_cached_key_still_checks_the_secret(partner):
    """Only the row is cached: a wrong secret with a known prefix is refused every time."""
    assert PartnerClient(partner).get(URL).status_code == 200
    prefix = partner.key.partition(".")[0]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {prefix}.{'x' * 32}")
    _assert_401(client.get(URL), "authentication_failed")


def test_a_revocation_in_a_transaction_that_rolls_back_changes_nothing(partner):

    client = PartnerClient(partner)
    assert client.get(URL).status_code == 200
    api_key = PartnerAPIKey.objects.get(partner=partner)
    with pytest.raises(RuntimeError), transaction.atomic():
        api_key.revoked = True
        api_key.save()
        raise RuntimeError
    assert client.get(URL).status_code == 200


def test_key_use_is_recorded(api, partner):
    api_key = PartnerAPIKey.objects.get(partner=partner)
    assert api_key.last_used_at is None
    api.get(URL)
    api_key.refresh_from_db()
    assert api_key.last_used_at is not None


def test_throttled_per_key_with_retry_after(settings, api, other_api):
    settings.PARTNER_API_RATE = "3/minute"
    assert [api.get(URL).status_code for _ in range(3)] == [200, 200, 200]
    response = api.get(URL)
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert 0 < int(response["Retry-After"]) <= 60
    assert other_api.get(URL).status_code == 200


def test_throttle_window_ends_and_the_key_may_send_again(settings, api, monkeypatch):
    """A fixed window per key: the count starts again in the next one."""

    settings.PARTNER_API_RATE = "2/minute"
    start = (int(time.time() // 60) + 1) * 60.0
    monkeypatch.setattr(time, "time", lambda: start + 1)
    assert [api.get(URL).status_code for _ in range(3)] == [200, 200, 429]
    assert api.get(URL)["Retry-After"] == "59"
    monkeypatch.setattr(time, "time", lambda: start + 61)
    assert api.get(URL).status_code == 200


def test_request_body_over_the_limit_answers_413_and_changes_nothing(settings, api):
    settings.PARTNER_API_MAX_BODY_BYTES = 200
    response = api.post(
        URL, {"external_id": "x", "email": "big@example.com", "first_name": "A" * 300}
    )
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"
    assert not Partner.objects.get(pk=api.partner.pk).customer_links.exists()


def test_malformed_json_is_a_400_with_code(api):
    response = api.post(URL, "{not json", content_type="application/json", format=None)
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_lists_are_paginated(api):
    for n in range(3):
        api.post(URL, {"external_id": f"e{n}", "email": f"p{n}@example.com"})
    page = api.get(URL, {"page_size": 2}).json()
    assert set(page) == {"count", "next", "previous", "results"}
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]
    assert api.get(page["next"]).json()["previous"] is not None
    assert api.get(URL, {"page": 9}).json()["code"] == "not_found"


def test_demo_partner_is_seeded_once_with_a_working_key(settings):

    settings.DEBUG = True
    call_command("seed_demo")
    call_command("seed_demo")
    assert Partner.objects.count() == 1
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {DEMO_API_KEY}")
    customers = client.get(URL).json()
    assert customers["count"] >= 5
    assert any(c["email"] == "anna@example.com" for c in customers["results"])


@pytest.mark.parametrize(
    "path",
    ["/api/v1/customers/not-a-uuid/", "/api/v1/nothing/here/", "/api/v1/customers"],
)
def test_unknown_paths_answer_the_api_404(api, path):
    response = api.get(path)
    assert response.status_code == 404
    assert response.json() == {"detail": response.json()["detail"], "code": "not_found"}
    assert api.post("/api/v1/conversions/not-a-uuid/refund/", {}).status_code == 404


def test_an_undeclared_method_is_405_even_without_idempotency_key(api):
    response = api.post("/api/v1/rewards/", {}, idempotency_key="")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert api.delete("/api/v1/customers/").status_code == 405
