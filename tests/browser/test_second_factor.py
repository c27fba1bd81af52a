"""Security keys and passkeys, for real: Chromium's virtual authenticator (through the
DevTools protocol) answers the portal's own WebAuthn script, under its CSP."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from playwright.sync_api import expect

from customers.models import User
from tests.browser.conftest import DESKTOP, watch_pages
from tests.factories import PASSWORD


@pytest.fixture
def staff(transactional_db):
    user = User.objects.create_superuser(email="sam@example.com", password=PASSWORD)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


@pytest.fixture
def key_page(browser, live_server, settings):
    """A desktop page on http://localhost (a secure context, as WebAuthn needs) with a
    virtual platform authenticator that holds passkeys and verifies the user."""
    settings.SITE_URL = live_server.url
    assert live_server.url.startswith("http://localhost:")
    context = browser.new_context(viewport=DESKTOP, base_url=live_server.url)
    refused, _conflicted = watch_pages(context)
    page = context.new_page()
    page.set_default_timeout(10_000)
    devtools = context.new_cdp_session(page)
    devtools.send("WebAuthn.enable")
    devtools.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    yield page
    context.close()
    assert not refused, f"A page broke the Content-Security-Policy: {refused}"


def _log_in_with_password(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()


def _log_out(page) -> None:
    page.goto("/accounts/logout/")
    page.locator("#main").get_by_role("button", name="Log out").click()
    page.wait_for_url("**/")


def test_staff_add_a_passkey_open_the_admin_and_sign_in_with_it(key_page, staff):
    page = key_page
    # No second factor yet: the admin sends them to set one up.
    _log_in_with_password(page, staff.email)
    page.wait_for_url("**/me/dashboard/")
    page.goto("/admin/")
    page.wait_for_url("**/accounts/2fa/")
    expect(page.get_by_text("Set up a second factor before opening the staff")).to_be_visible()

    # Adding a key asks for the password again, then the authenticator makes a passkey.
    page.goto("/accounts/2fa/webauthn/add/")
    page.wait_for_url("**/accounts/reauthenticate/**")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/accounts/2fa/webauthn/add/")
    page.get_by_label("Passwordless").check()
    page.get_by_role("button", name="Add", exact=True).click()
    page.wait_for_url("**/accounts/2fa/recovery-codes/")
    assert Authenticator.objects.filter(user=staff, type=Authenticator.Type.WEBAUTHN).exists()

    # Adding the key proved it is at hand: the admin opens.
    page.goto("/admin/")
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()

    # A new session asks for the key before the admin opens.
    _log_out(page)
    page.goto("/admin/login/?next=/admin/")
    page.get_by_label("Email").fill(staff.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_url("**/accounts/2fa/webauthn/reauthenticate/**")
    page.get_by_role("button", name="Use a security key").click()
    page.wait_for_url("**/admin/")
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()

    # Password, then the key: the admin opens at once.
    _log_out(page)
    _log_in_with_password(page, staff.email)
    page.wait_for_url("**/accounts/2fa/authenticate/")
    page.get_by_role("button", name="Use a security key").click()
    page.wait_for_url("**/me/dashboard/")
    page.goto("/admin/customers/customer/")
    page.wait_for_url("**/admin/customers/customer/")

    # The passkey alone signs in, and counts as the second factor.
    _log_out(page)
    page.goto("/accounts/login/")
    page.get_by_role("button", name="Log in with a passkey").click()
    page.wait_for_url("**/me/dashboard/")
    page.goto("/admin/dashboard/")
    page.wait_for_url("**/admin/dashboard/")
