"""The rewards pages in a real browser: readable and usable on a phone and a desktop."""

from __future__ import annotations

import pytest

from customers.services import connection_befriend
from loyalty import ledger
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
    assert "300 points" in page.content()
    assert_accessible(page)
    for path in ["/me/rewards/history/", "/me/rewards/vouchers/", "/me/rewards/gift/"]:
        page.goto(path)
        assert_accessible(page)
    page.goto("/me/rewards/catalog/")
    assert_accessible(page)
    page.get_by_role("link", name="Redeem").click()
    assert_accessible(page)
    page.get_by_role("button", name="Yes, redeem").click()
    page.wait_for_url("**/me/rewards/vouchers/")
    assert page.get_by_text("Your voucher code is").is_visible()
    assert_accessible(page)
