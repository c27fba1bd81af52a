"""The customer's pages in a real browser, on a phone and on a desktop."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from customers.models import Connection, User
from customers.services import connection_befriend, connection_request
from tests.browser.accessibility import assert_accessible, serious_violations
from tests.browser.conftest import log_in, watch_pages
from tests.factories import PASSWORD, CustomerFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_home_page_explains_the_program(page):
    page.goto("/")
    assert_accessible(page)
    assert page.get_by_role("link", name="Sign up in a minute").is_visible()


def test_signup_page_is_usable(page):
    page.goto("/accounts/signup/")
    assert_accessible(page)
    email = page.get_by_role("textbox", name="Email")
    assert email.get_attribute("required") is not None
    page.get_by_role("button", name="Sign up").click()
    # The browser's own validation keeps the empty form from being sent.
    assert email.evaluate("field => field.validity.valueMissing")
    assert page.url.endswith("/accounts/signup/")
    assert not User.objects.exists()


def test_customer_logs_in_and_reaches_every_page(page, customer):
    log_in(page, customer.user.email)
    assert "Anna" in page.locator("h1").inner_text()
    assert_accessible(page)
    for path in ["/me/friends/", "/me/profile/"]:
        page.goto(path)
        assert_accessible(page)


def test_keyboard_focus_is_visible(page, customer):
    page.goto("/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.className")
    assert "skip-link" in focused
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none")


def test_wrong_password_says_so(page, customer):
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(customer.user.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in", exact=True).click()
    assert page.get_by_text("not correct").is_visible()
    assert_accessible(page)


def test_unknown_page_is_friendly(page):
    response = page.goto("/no-such-page/")
    assert response.status == 404
    assert_accessible(page)


def test_accessibility_checks_catch_what_they_look_for(page):
    page.set_content(
        '<html lang="en"><body><header><nav></nav></header><main><h1>Title</h1>'
        '<p style="color:#bbb">faint</p><input name="nameless">'
        '<div style="width:2000px">wide</div></main></body></html>'
    )
    found = {violation.split(":")[0] for violation in serious_violations(page)}
    assert {"color-contrast", "label"} <= found
    with pytest.raises(AssertionError):
        assert_accessible(page)


def test_removing_a_friend_asks_first(page, customer):
    ben = CustomerFactory(first_name="Ben", last_name="Osei")
    connection_befriend(customer=customer, other=ben)
    log_in(page, customer.user.email)
    page.goto("/me/friends/")
    page.get_by_role("link", name="Remove Ben Osei").click()
    page.get_by_role("heading", name="Remove Ben Osei from your list?").wait_for()
    assert_accessible(page)
    assert Connection.objects.filter(requester=customer).exists()
    page.get_by_role("link", name="Keep on my list").click()
    page.wait_for_url("**/me/friends/")
    assert Connection.objects.filter(requester=customer).exists()
    page.get_by_role("link", name="Remove Ben Osei").click()
    page.get_by_role("button", name="Yes, remove").click()
    page.wait_for_url("**/me/friends/")
    assert page.get_by_text("Removed from your list.").is_visible()
    assert not Connection.objects.filter(requester=customer).exists()


def test_confirming_the_email_address_signs_the_new_customer_in(page):
    # An address per screen size: allauth sends one confirmation per address in a while.
    address = f"rosa.{page.viewport_size['width']}@example.com"
    page.goto("/accounts/signup/")
    page.get_by_role("textbox", name="Email").fill(address)
    page.get_by_label("First name").fill("Rosa")
    page.get_by_label(re.compile(r"^Password$")).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("checkbox", name="Send me news and offers by email").check()
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url("**/accounts/confirm-email/")
    (message,) = mail.outbox
    link = re.search(r"http://\S+/accounts/confirm-email/\S+/", message.body).group()
    page.goto(link)
    assert_accessible(page)
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/me/dashboard/")
    assert page.locator("h1").inner_text() == "Hello, Rosa"
    assert_accessible(page)


def test_pages_showing_merge_conflict_markers_are_caught(browser):
    context = browser.new_context()
    _, conflicted = watch_pages(context)
    page = context.new_page()
    page.route(
        "http://kindred.test/**",
        lambda route: route.fulfill(
            content_type="text/html",
            body='<html lang="en"><body><main><h1>Vouchers</h1><section>\n'
            "<<<<<<< HEAD\n  <table><tr><td>Code</td></tr></table>\n=======\n"
            "  <p>No vouchers</p>\n>>>>>>> main\n</section></main></body></html>",
        ),
    )
    page.goto("http://kindred.test/me/rewards/vouchers/")
    with pytest.raises(AssertionError, match="merge conflict markers"):
        assert_accessible(page)
    context.close()
    assert conflicted == [
        "Merge conflict markers on /me/rewards/vouchers/: <<<<<<< HEAD | ======= | >>>>>>> main"
    ]


def test_a_request_is_confirmed_and_another_declined_from_the_list(page, customer):
    ben = CustomerFactory(first_name="Ben", last_name="Osei")
    carla = CustomerFactory(first_name="Carla", last_name="Diaz")
    connection_request(requester=ben, addressee=customer)
    connection_request(requester=carla, addressee=customer, relation="family")
    log_in(page, customer.user.email)
    page.goto("/me/friends/")
    page.get_by_text("Ben Osei says you are their friend.").wait_for()
    assert_accessible(page)
    page.locator("li", has_text="Ben Osei").get_by_role("button", name="Confirm").click()
    page.get_by_text("Request confirmed.").wait_for()
    page.locator("li", has_text="Carla Diaz").get_by_role("button", name="Decline").click()
    page.get_by_text("Request declined.").wait_for()
    assert page.get_by_role("link", name="Remove Ben Osei").is_visible()
    assert page.get_by_text("Carla Diaz").count() == 0
    statuses = dict(Connection.objects.values_list("requester__user__first_name", "status"))
    assert statuses == {"Ben": "confirmed", "Carla": "declined"}
