"""Guessing passwords and second-factor codes is slowed down on every login form and on
password reset."""

from __future__ import annotations

import time

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.factories import PASSWORD, CustomerFactory
from tests.support import second_factor_add, totp_code

pytestmark = pytest.mark.django_db

# ACCOUNT_RATE_LIMITS: "login_failed" allows 5 attempts per address in 5 minutes.
ATTEMPTS_PER_ADDRESS = 5


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_portal_login_locks_an_address_after_repeated_wrong_passwords(client):
    customer = CustomerFactory()
    url = reverse("account_login")
    for _ in range(ATTEMPTS_PER_ADDRESS):
        response = client.post(url, {"login": customer.user.email, "password": "wrong"})
        assert response.status_code == 200 and not _signed_in(client)
    response = client.post(url, {"login": customer.user.email, "password": PASSWORD})
    assert "Too many failed login attempts" in response.content.decode()
    assert not _signed_in(client)


def test_password_reset_requests_for_one_address_are_limited(client):
    customer = CustomerFactory()
    url = reverse("account_reset_password")
    statuses = [client.post(url, {"email": customer.user.email}).status_code for _ in range(6)]
    assert statuses[:5] == [302] * 5
    assert statuses[5] == 429


def test_admin_login_answers_429_after_repeated_wrong_passwords_even_to_the_right_one(client):
    get_user_model().objects.create_superuser(email="root@example.com", password=PASSWORD)
    url = reverse("admin:login")
    for _ in range(ATTEMPTS_PER_ADDRESS):
        response = client.post(url, {"username": "root@example.com", "password": "wrong"})
        assert response.status_code == 200 and not _signed_in(client)
    response = client.post(url, {"username": "root@example.com", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    assert not _signed_in(client)


def test_admin_login_limit_is_per_address_so_staff_elsewhere_can_still_log_in(client):
    user_model = get_user_model()
    user_model.objects.create_superuser(email="root@example.com", password=PASSWORD)
    user_model.objects.create_superuser(email="other@example.com", password=PASSWORD)
    url = reverse("admin:login")
    for _ in range(ATTEMPTS_PER_ADDRESS):
        client.post(url, {"username": "root@example.com", "password": "wrong"})
    response = client.post(url, {"username": "other@example.com", "password": PASSWORD})
    assert response.status_code == 302 and _signed_in(client)


def test_admin_and_portal_logins_share_one_budget_per_address(client):
    customer = CustomerFactory()
    customer.user.is_staff = True
    customer.user.save()
    for _ in range(ATTEMPTS_PER_ADDRESS):
        client.post(reverse("admin:login"), {"username": customer.user.email, "password": "x"})
    response = client.post(
        reverse("account_login"), {"login": customer.user.email, "password": PASSWORD}
    )
    assert "Too many failed login attempts" in response.content.decode()
    assert not _signed_in(client)


def test_wrong_second_factor_codes_lock_code_entry_for_the_account(client):
    """Codes spend from the "login_failed" budget per account: a six-digit code cannot be
    guessed by trying them all, even from many addresses."""
    customer = CustomerFactory()
    EmailAddress.objects.create(
        user=customer.user, email=customer.user.email, verified=True, primary=True
    )
    secret = second_factor_add(customer.user)
    client.post(reverse("account_login"), {"login": customer.user.email, "password": PASSWORD})
    url = reverse("mfa_authenticate")
    wrong = totp_code(secret, at=time.time() - 3600)
    for _ in range(ATTEMPTS_PER_ADDRESS):
        response = client.post(url, {"code": wrong})
        assert "Incorrect code" in response.content.decode() and not _signed_in(client)
    response = client.post(url, {"code": totp_code(secret)})
    assert "Too many failed login attempts" in response.content.decode()
    assert not _signed_in(client)
