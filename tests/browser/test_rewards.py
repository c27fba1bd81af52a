"""The rewards pages in a real browser: readable and usable on a phone and a desktop."""

from __future__ import annotations

import pytest

from customers.services import connection_befriend
from loyalty import ledger
from loyalty.models import Voucher
from loyalty.vouchers import reward_redeem
from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import log_in
from tests.factories import CustomerFactory
from tests.loyalty.factories import RewardFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_customer_redeems_a_reward_and_every_rewards_page_is_accessible(page, customer):
    ledger.points_award(customer=customer, points=300, kind="earn", memo="Order A-1")
    connection_befriend(customer=customer, other=CustomerFactory(first_name="Ben"))
    RewardFactory(name="Free flat white", points_cost=100)
    log_in(page, customer.user.email)
    page.get_by_role("link", name="Rewards", exact=True).click()
    page.wait_for_url("**/me/rewards/")
    page.get_by_text("300 points").wait_for()
    assert_accessible(page)
    for path in ["/me/rewards/history/", "/me/rewards/vouchers/", "/me/rewards/gift/"]:
        page.goto(path)
        assert_accessible(page)
    page.goto("/me/rewards/catalog/")
    assert_accessible(page)
    page.get_by_role("link", name="Redeem").click()
    page.get_by_role("button", name="Yes, redeem").wait_for()
    assert_accessible(page)
    page.get_by_role("button", name="Yes, redeem").click()
    page.wait_for_url("**/me/rewards/vouchers/")
    page.get_by_text("Your voucher code is").wait_for()
    assert_accessible(page)


def test_wide_voucher_codes_never_make_the_page_scroll_sideways(page, customer):
    ledger.points_award(customer=customer, points=300, kind="earn", memo="Order A-1")
    for _ in range(3):
        reward_redeem(customer=customer, reward=RewardFactory(name="Bag of house espresso"))
    Voucher.objects.filter(pk=Voucher.objects.first().pk).update(code="WWWWWWWWWWWW")
    log_in(page, customer.user.email)
    page.goto("/me/rewards/vouchers/")
    page.get_by_text("WWWWWWWWWWWW").wait_for()
    assert_accessible(page)


def test_gift_form_shows_only_the_field_of_the_chosen_gift(page, customer):
    connection_befriend(customer=customer, other=CustomerFactory(first_name="Ben"))
    RewardFactory(name="Free flat white", points_cost=100)
    log_in(page, customer.user.email)
    page.goto("/me/rewards/gift/")
    points, reward = page.get_by_label("How many points"), page.get_by_label("Reward", exact=True)
    assert points.is_visible() and not reward.is_visible()
    page.get_by_role("radio", name="A reward").check()
    assert reward.is_visible() and not points.is_visible()
    page.get_by_role("radio", name="Points").check()
    assert points.is_visible() and not reward.is_visible()
    assert_accessible(page)


def test_gift_form_without_javascript_shows_both_fields(browser, live_server, customer):
    connection_befriend(customer=customer, other=CustomerFactory(first_name="Ben"))
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    log_in(page, customer.user.email)
    page.goto("/me/rewards/gift/")
    assert page.get_by_label("How many points").is_visible()
    assert page.get_by_label("Reward", exact=True).is_visible()
    context.close()
