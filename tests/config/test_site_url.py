"""Every link the portal builds carries the address it is served at."""

from __future__ import annotations

import os
import subprocess
import sys
from urllib.parse import quote

import pytest
from django.core import mail

from customers.selectors import referral_url
from referrals.invitations import invitation_send, invitations_create
from tests.factories import CustomerFactory
from tests.partners.factories import PartnerFactory
from tests.support import BASE_DIR, PartnerClient

SITE = "http://127.0.0.1:8123"


def _settings_value(name: str, tmp_path, **env) -> subprocess.CompletedProcess:
    """Read one setting as the real settings module derives it from `env` alone."""
    base = {
        key: value
        for key, value in os.environ.items()
        if key not in {"SITE_URL", "PORT", "DEBUG", "SECRET_KEY"}
    }
    script = (
        f"import django; django.setup(); from django.conf import settings; print(settings.{name})"
    )
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=BASE_DIR,
        env={
            **base,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "VAR_DIR": str(tmp_path),
            "KINDRED_DEVELOPMENT_ENV": str(tmp_path / "no-such-file.env"),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_in_debug_the_site_address_follows_the_port_served(tmp_path):
    result = _settings_value("SITE_URL", tmp_path, DEBUG="1", PORT="8123")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == SITE


def test_a_given_site_address_wins_over_the_port(tmp_path):
    result = _settings_value(
        "SITE_URL", tmp_path, DEBUG="1", PORT="8123", SITE_URL="https://kindred.example.com/"
    )
    assert result.stdout.strip() == "https://kindred.example.com"


def test_without_debug_a_missing_site_address_is_an_error(tmp_path):
    result = _settings_value("SITE_URL", tmp_path, DEBUG="0", PORT="8123", SECRET_KEY="x" * 50)
    assert result.returncode != 0
    assert "SITE_URL" in result.stderr


def test_make_run_gives_the_worker_the_web_servers_address():
    """honcho hands every process a port of its own; the worker sends the emails."""
    env = {key: value for key, value in os.environ.items() if key != "SITE_URL"}
    result = subprocess.run(
        ["make", "-n", "run", "PORT=8123"], cwd=BASE_DIR, env=env, capture_output=True, text=True
    )
    (start,) = [line for line in result.stdout.splitlines() if "honcho" in line]
    assert f'SITE_URL="{SITE}"' in start


@pytest.mark.django_db
def test_referral_link_and_share_links_carry_the_site_address(client, settings):
    settings.SITE_URL = SITE
    customer = CustomerFactory()
    link = f"{SITE}/r/{customer.referral_code}/"
    assert referral_url(customer=customer) == link
    client.force_login(customer.user)
    page = client.get("/me/dashboard/").content.decode()
    assert link in page
    assert quote(link, safe="") in page
    assert "8000" not in page


@pytest.mark.django_db
def test_invitation_email_links_carry_the_site_address(settings):
    settings.SITE_URL = SITE
    (invitation,) = invitations_create(
        sender=CustomerFactory(), addresses="friend@example.org", note=""
    ).invited
    invitation_send(invitation_id=invitation.pk)
    (message,) = mail.outbox
    assert f"{SITE}/" in message.body
    assert "127.0.0.1:8000" not in message.body


@pytest.mark.django_db
def test_api_referral_url_carries_the_site_address(settings):
    settings.SITE_URL = SITE
    api = PartnerClient(PartnerFactory())
    response = api.post(
        "/api/v1/customers/",
        {"external_id": "shop-1", "email": "anna@example.com", "first_name": "Anna"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["referral_url"] == f"{SITE}/r/{body['referral_code']}/"
