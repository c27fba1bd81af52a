"""Taking over an account needs more than a session: the password again, and the old
address is told."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from tests.factories import PASSWORD, CustomerFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "another-correct-horse-battery"


@pytest.fixture
def anna():
    customer = CustomerFactory(email="anna@example.com", first_name="Anna")
    EmailAddress.objects.create(
        user=customer.user, email="anna@example.com", primary=True, verified=True
    )
    return customer


@pytest.fixture
def signed_in(client, anna):
    """A session and nothing else: what a stolen cookie or an unlocked laptop gives."""
    client.force_login(anna.user, backend="customers.backends.PortalModelBackend")
    return client


def _add_email(client, email="mallory@example.net"):
    return client.post(reverse("account_email"), {"email": email, "action_add": ""})


def test_email_change_from_a_session_alone_is_refused_and_changes_nothing(signed_in, anna):
    response = _add_email(signed_in)
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_reauthenticate"))
    assert list(EmailAddress.objects.filter(user=anna.user).values_list("email", flat=True)) == [
        "anna@example.com"
    ]
    assert mail.outbox == []


def test_email_change_with_a_wrong_password_changes_nothing(signed_in, anna):
    _add_email(signed_in)
    response = signed_in.post(reverse("account_reauthenticate"), {"password": "guess"})
    assert response.status_code == 200
    assert not EmailAddress.objects.filter(email="mallory@example.net").exists()
    assert mail.outbox == []


def test_email_change_after_the_password_is_confirmed_and_the_old_address_is_told(
    signed_in, anna, settings
):
    _add_email(signed_in)
    signed_in.post(
        reverse("account_reauthenticate") + "?next=" + reverse("account_email"),
        {"password": PASSWORD},
    )
    assert EmailAddress.objects.filter(email="mallory@example.net", verified=False).exists()
    (confirmation,) = mail.outbox
    assert confirmation.to == ["mallory@example.net"]
    link = re.search(
        re.escape(settings.SITE_URL) + r"(/accounts/confirm-email/[^/\s]+/)", confirmation.body
    )
    assert link, confirmation.body
    signed_in.post(link.group(1))

    anna.user.refresh_from_db()
    assert anna.user.email == "mallory@example.net"
    (notice,) = [message for message in mail.outbox if message.to == ["anna@example.com"]]
    assert "Email Changed" in notice.subject
    html = notice.alternatives[0][0]
    for part in (notice.body, html):
        assert "anna@example.com" in part and "mallory@example.net" in part
        assert settings.BUSINESS_NAME in part
    assert "testserver" not in notice.body


def test_password_change_needs_the_current_password(signed_in, anna):
    response = signed_in.post(
        reverse("account_change_password"),
        {"oldpassword": "guess", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 200
    anna.user.refresh_from_db()
    assert anna.user.check_password(PASSWORD)
    assert mail.outbox == []


def test_password_change_tells_the_address_on_file(signed_in, anna, settings):
    response = signed_in.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    (notice,) = mail.outbox
    assert notice.to == ["anna@example.com"]
    assert "Your password has been changed." in notice.body
    assert settings.BUSINESS_NAME in notice.alternatives[0][0]
