"""The referral pages in a real browser: the invite page, the link's landing page, opting out."""

from __future__ import annotations

import pytest

from referrals.invitations import invitations_create, suppress_url
from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import log_in
from tests.referrals.factories import active_program

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def program(transactional_db):
    active_program()


def test_customer_invites_friends_and_sees_refused_lines(page, customer):
    invitations_create(sender=customer, addresses="already@example.org")
    log_in(page, customer.user.email)
    page.get_by_role("link", name="Invite friends").first.click()
    page.wait_for_url("**/me/invite/")
    assert_accessible(page)
    assert customer.referral_code in page.get_by_role("textbox", name="Link").input_value()
    page.get_by_label("Your friends' email addresses").fill("new@example.org, not-an-address")
    page.get_by_label("A personal note (optional)").fill("Coffee on me!")
    page.get_by_role("button", name="Send invitations").click()
    assert page.get_by_text("1 invitation on its way.").is_visible()
    assert page.get_by_text("not a valid email address").is_visible()
    assert page.get_by_role("cell", name="new@example.org").is_visible()
    assert_accessible(page)


def test_friend_lands_on_the_referral_link(page, customer):
    page.goto(f"/r/{customer.referral_code}/")
    assert "Anna" in page.locator("h1").inner_text()
    assert page.get_by_text("250 welcome points").is_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Sign up now").click()
    page.wait_for_url("**/accounts/signup/")


def test_dead_link_and_opt_out_pages(page, customer):
    response = page.goto("/invitation/not-a-token/")
    assert response.status == 404
    assert_accessible(page)
    stop = suppress_url("friend@example.org")
    page.goto(stop[stop.index("/no-more-invitations/") :])
    assert_accessible(page)
    page.get_by_role("button", name="Stop invitations to my address").click()
    assert page.get_by_text("no more invitations").is_visible()
    assert_accessible(page)
