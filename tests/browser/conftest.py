"""Real Chromium (Playwright's own or the system's: tests/browser/browsers.py) driven by
Playwright against pytest-django's live server."""

from __future__ import annotations

import os

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import sync_playwright

from tests.browser.accessibility import CONFLICT_MARKER_MESSAGE, CONFLICT_MARKER_WATCH
from tests.browser.browsers import NoChromium, launch
from tests.factories import PASSWORD, CustomerFactory
from tests.support import totp_code

PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 900}

# Playwright's sync API keeps an event loop running in the test thread; the ORM calls the
# tests make between page actions are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        try:
            chromium = launch(playwright)
        except NoChromium as missing:
            pytest.fail(str(missing))
        yield chromium
        chromium.close()


def watch_pages(context) -> tuple[list[str], list[str]]:
    """Collect, from every page the context opens, CSP refusals and merge conflict markers."""
    refused: list[str] = []
    conflicted: list[str] = []

    def on_console(message) -> None:
        if "Content Security Policy" in message.text:
            refused.append(message.text)
        elif message.text.startswith(CONFLICT_MARKER_MESSAGE):
            conflicted.append(message.text)

    context.add_init_script(CONFLICT_MARKER_WATCH)
    context.on("console", on_console)
    return refused, conflicted


@pytest.fixture(params=[PHONE, DESKTOP], ids=["phone", "desktop"])
def page(request, browser, live_server, settings):
    # Links in emails and on pages are built from SITE_URL: here, the live server.
    settings.SITE_URL = live_server.url
    context = browser.new_context(viewport=request.param, base_url=live_server.url)
    refused, conflicted = watch_pages(context)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
    assert not refused, f"The portal broke its own Content-Security-Policy: {refused}"
    assert not conflicted, f"A page showed merge conflict markers: {conflicted}"


@pytest.fixture
def customer(transactional_db):
    customer = CustomerFactory(first_name="Anna", last_name="Kim", email="anna@example.com")
    EmailAddress.objects.create(
        user=customer.user, email=customer.user.email, verified=True, primary=True
    )
    return customer


def log_in(page, email: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_url("**/me/dashboard/")


def enter_second_factor(page, secret: str, *, then: str) -> None:
    """The admin asks staff who logged in with their password alone for a code."""
    page.wait_for_url("**/accounts/2fa/reauthenticate/**")
    page.locator("input[name=code]").fill(totp_code(secret))
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(then)
