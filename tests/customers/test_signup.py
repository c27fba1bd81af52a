import re

import pytest
from django.core import mail
from django.urls import reverse

from customers.models import REFERRAL_CODE_ALPHABET, Customer, User
from tests.factories import PASSWORD, CustomerFactory

pytestmark = pytest.mark.django_db


def _signup(client, email="new@example.com"):
    return client.post(
        reverse("account_signup"),
        {
            "email": email,
            "first_name": "Nora",
            "last_name": "Lind",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "marketing_consent": "on",
        },
    )


def test_signup_verifies_email_then_shows_profile_with_code(client, settings):
    response = _signup(client)
    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    customer = Customer.objects.get(user__email="new@example.com")
    assert customer.user.first_name == "Nora"
    assert customer.marketing_consent and customer.marketing_consent_at

    # Not logged in until the address is verified.
    assert client.get(reverse("dashboard")).status_code == 302

    (message,) = mail.outbox
    assert message.body.strip() and message.alternatives[0][1] == "text/html"
    link = re.search(
        re.escape(settings.SITE_URL) + r"(/accounts/confirm-email/[^/\s]+/)", message.body
    )
    assert link, message.body
    confirm_page = client.get(link.group(1))
    assert confirm_page.status_code == 200
    response = client.post(link.group(1))
    assert response.status_code == 302

    dashboard = client.get(reverse("dashboard"))
    assert dashboard.status_code == 200
    code = customer.referral_code
    assert len(code) == 8 and set(code) <= set(REFERRAL_CODE_ALPHABET)
    assert code in dashboard.content.decode()


def test_login_refused_until_email_verified(client):
    _signup(client)
    client.logout()
    response = client.post(
        reverse("account_login"), {"login": "new@example.com", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session


def test_signup_with_taken_email_does_not_reveal_the_account(client):
    CustomerFactory(email="taken@example.com")
    response = _signup(client, email="taken@example.com")
    # Same answer as for a new address; the owner gets an email instead.
    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    assert User.objects.filter(email="taken@example.com").count() == 1


def test_password_reset_does_not_reveal_unknown_addresses(client):
    CustomerFactory(email="known@example.com")
    known = client.post(reverse("account_reset_password"), {"email": "known@example.com"})
    unknown = client.post(reverse("account_reset_password"), {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 302
    assert known.url == unknown.url


def test_password_reset_link_is_built_from_site_url_not_the_requests_host(client, settings):
    settings.DEBUG = False
    settings.SITE_URL = "https://portal.example:8443"
    settings.ALLOWED_HOSTS = ["portal.example"]
    settings.ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https"
    CustomerFactory(email="known@example.com")
    # ALLOWED_HOSTS checks the host name only: any port passes.
    client.post(
        reverse("account_reset_password"),
        {"email": "known@example.com"},
        HTTP_HOST="portal.example:6666",
    )
    (message,) = mail.outbox
    links = re.findall(r"https?://\S+", message.body)
    assert any(
        link.startswith("https://portal.example:8443/accounts/password/reset/key/")
        for link in links
    ), message.body
    assert ":6666" not in message.body


def test_allauth_pages_use_the_portal_layout(client):
    page = client.get(reverse("account_login")).content.decode()
    assert 'class="site-header"' in page
    assert 'id="main"' in page


def test_account_pages_for_a_logged_in_customer(client):
    customer = CustomerFactory()
    client.force_login(customer.user)
    for name in ["account_email", "account_change_password", "customers:profile"]:
        assert client.get(reverse(name)).status_code == 200, name


def test_createsuperuser_style_user_gets_a_profile_on_first_visit(client):
    user = User.objects.create_superuser(email="boss@example.com", password=PASSWORD)
    client.force_login(user)
    assert client.get(reverse("dashboard")).status_code == 200
    assert Customer.objects.filter(user=user).exists()


def test_verification_email_is_in_the_business_layout_with_a_text_part(client, settings):
    _signup(client, email="rosa.new@example.com")
    (message,) = mail.outbox
    html, kind = message.alternatives[0]
    assert kind == "text/html"
    assert settings.BUSINESS_NAME in html
    assert "#f6f4ef" in html, "the layout of templates/emails/base.html"
    link = re.search(
        re.escape(settings.SITE_URL) + r"/accounts/confirm-email/[^/\s]+/", message.body
    ).group()
    assert f'href="{link}"' in html
    for part in (message.body, html):
        assert "Hello from" not in part
        assert "rosa.new@example.com" not in part
        assert "example.com!" not in part


def test_allauth_emails_without_a_template_of_their_own_get_the_layout_too(client, settings):
    CustomerFactory(email="known@example.com")
    client.post(reverse("account_reset_password"), {"email": "known@example.com"})
    (message,) = mail.outbox
    html, _kind = message.alternatives[0]
    assert settings.BUSINESS_NAME in html and "#f6f4ef" in html
    assert "/accounts/password/reset/key/" in html
    assert "Hello from" not in message.body
