"""Staff open the admin only with a second factor used this session; idle admin sessions end."""

from __future__ import annotations

import time

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY as TOTP_SECRET_SESSION_KEY
from django.contrib import admin
from django.core.cache import cache
from django.urls import reverse

from config.staff_mfa import LAST_ACTIVITY_SESSION_KEY
from tests.factories import PASSWORD, CustomerFactory
from tests.support import login_with_second_factor, second_factor_add, totp_code

pytestmark = pytest.mark.django_db

ADMIN_PAGES = [
    reverse("admin:index"),
    reverse("staff_dashboard"),
    *sorted(
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in admin.site._registry
    ),
]


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Used TOTP codes and rate-limit counters live in the cache."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def staff(django_user_model):
    """A superuser with a verified address, so the portal login takes them."""
    customer = _verified(CustomerFactory(email="sam@example.com"))
    django_user_model.objects.filter(pk=customer.user_id).update(is_staff=True, is_superuser=True)
    return django_user_model.objects.get(pk=customer.user_id)


def _verified(customer):
    EmailAddress.objects.create(
        user=customer.user, email=customer.user.email, verified=True, primary=True
    )
    return customer


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def _log_in(client, user, code: str):
    """The portal login: the password, then the code allauth asks for."""
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("mfa_authenticate")
    return client.post(reverse("mfa_authenticate"), {"code": code})


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_staff_without_a_second_factor_are_sent_to_set_one_up(client, staff, path):
    client.force_login(staff)
    response = client.get(path)
    assert response.status_code == 302 and response["Location"] == reverse("mfa_index")


def test_the_setup_page_says_why_and_offers_an_app_and_a_security_key(client, staff):
    client.force_login(staff)
    page = client.get(reverse("admin:index"), follow=True).content.decode()
    assert "Set up a second factor before opening the staff admin" in page
    assert reverse("mfa_activate_totp") in page and reverse("mfa_add_webauthn") in page


def test_staff_whose_session_never_used_the_second_factor_are_asked_for_a_code(client, staff):
    """A login through the admin's own password form knows nothing of allauth's code step."""
    secret = second_factor_add(staff)
    response = client.post(reverse("admin:login"), {"username": staff.email, "password": PASSWORD})
    assert _signed_in(client)
    response = client.get(reverse("admin:customers_customer_changelist"))
    assert response.status_code == 302
    assert response["Location"] == (
        reverse("mfa_reauthenticate") + "?next=/admin/customers/customer/"
    )
    response = client.post(response["Location"], {"code": totp_code(secret)})
    assert response.status_code == 302 and response["Location"] == "/admin/customers/customer/"
    assert client.get(response["Location"]).status_code == 200


def test_a_code_from_the_app_logs_staff_in_and_opens_the_admin(client, staff):
    secret = second_factor_add(staff)
    response = _log_in(client, staff, totp_code(secret))
    assert response.status_code == 302 and _signed_in(client)
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(reverse("staff_dashboard")).status_code == 200


def test_a_wrong_code_does_not_log_in(client, staff):
    secret = second_factor_add(staff)
    wrong = totp_code(secret, at=time.time() - 3600)
    response = _log_in(client, staff, wrong)
    assert response.status_code == 200 and "Incorrect code" in response.content.decode()
    assert not _signed_in(client)


def test_a_code_used_once_does_not_log_in_again(client, staff):
    secret = second_factor_add(staff)
    code = totp_code(secret)
    assert _log_in(client, staff, code).status_code == 302
    client.logout()
    response = _log_in(client, staff, code)
    assert response.status_code == 200 and not _signed_in(client)


def test_a_recovery_code_logs_in_once(client, staff):
    second_factor_add(staff)
    code = RecoveryCodes.activate(staff).get_unused_codes()[0]
    assert _log_in(client, staff, code).status_code == 302 and _signed_in(client)
    assert client.get(reverse("admin:index")).status_code == 200
    client.logout()
    response = _log_in(client, staff, code)
    assert response.status_code == 200 and not _signed_in(client)


def test_customers_log_in_with_a_password_alone_until_they_turn_a_second_factor_on(client):
    customer = _verified(CustomerFactory())
    response = client.post(
        reverse("account_login"), {"login": customer.user.email, "password": PASSWORD}
    )
    assert response.status_code == 302 and _signed_in(client)
    assert reverse("mfa_index") in client.get(reverse("customers:profile")).content.decode()
    client.logout()
    secret = second_factor_add(customer.user)
    assert _log_in(client, customer.user, totp_code(secret)).status_code == 302
    assert _signed_in(client)


def test_an_idle_admin_session_ends(client, staff, settings):
    settings.ADMIN_SESSION_IDLE_MINUTES = 30
    login_with_second_factor(client, staff)
    assert client.get(reverse("admin:index")).status_code == 200
    session = client.session
    session[LAST_ACTIVITY_SESSION_KEY] -= 31 * 60
    session.save()
    response = client.get(reverse("admin:customers_customer_changelist"))
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:login") + "?next=/admin/customers/customer/"
    assert not _signed_in(client)


def test_an_admin_session_in_use_stays_open(client, staff, settings):
    settings.ADMIN_SESSION_IDLE_MINUTES = 30
    login_with_second_factor(client, staff)
    assert client.get(reverse("admin:index")).status_code == 200
    session = client.session
    session[LAST_ACTIVITY_SESSION_KEY] -= 29 * 60
    session.save()
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.session[LAST_ACTIVITY_SESSION_KEY] >= time.time() - 5


def test_turning_the_app_off_asks_for_the_password_again(client):
    customer = CustomerFactory()
    login_with_second_factor(client, customer.user)
    response = client.get(reverse("mfa_deactivate_totp"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    response = client.post(response["Location"], {"password": PASSWORD})
    assert client.post(reverse("mfa_deactivate_totp")).status_code == 302
    assert not Authenticator.objects.filter(user=customer.user).exists()


def test_staff_cannot_turn_off_their_last_second_factor(client, staff):
    login_with_second_factor(client, staff)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    response = client.post(reverse("mfa_deactivate_totp"))
    assert response.status_code == 200
    assert "You cannot deactivate two-factor authentication" in response.content.decode()
    assert Authenticator.objects.filter(user=staff, type=Authenticator.Type.TOTP).exists()


@pytest.mark.parametrize(
    "name", ["mfa_index", "mfa_add_webauthn", "mfa_view_recovery_codes", "mfa_deactivate_totp"]
)
def test_a_session_that_did_not_use_its_second_factor_cannot_change_them(client, staff, name):
    """The admin's password form signs in without the code: such a session must not add a
    key of its own or read a recovery code, then pass the admin's check with it."""
    second_factor_add(staff)
    RecoveryCodes.activate(staff)
    client.post(reverse("admin:login"), {"username": staff.email, "password": PASSWORD})
    assert _signed_in(client)
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_reauthenticate") + "?next=")
    assert client.get(response["Location"]).status_code == 200


# allauth announces a new authenticator once its transaction commits, inside the request.
@pytest.mark.django_db(transaction=True)
def test_setting_up_an_app_counts_as_using_it_so_the_admin_opens_at_once(client, staff):
    client.force_login(staff)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert client.get(reverse("mfa_activate_totp")).status_code == 200
    secret = client.session[TOTP_SECRET_SESSION_KEY]
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert client.get(reverse("mfa_view_recovery_codes")).status_code == 200
    assert client.get(reverse("admin:index")).status_code == 200
