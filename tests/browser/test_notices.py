"""The notification centre in a real browser: the bell, the list, marking all read."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from customers.notices import notice_create
from loyalty import ledger
from loyalty.models import Transaction
from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_bell_counts_a_settled_reward_and_the_list_marks_all_read(page, customer):
    ledger.points_award(
        customer=customer,
        points=500,
        kind=Transaction.Kind.REFERRAL_REWARD,
        memo="Thank you for referring a friend",
        settles_at=timezone.now() - timedelta(seconds=1),
    )
    log_in(page, customer.user.email)
    bell = page.locator("a.bell")
    assert bell.get_attribute("href") == "/me/notices/"
    page.get_by_role("link", name="Notifications", exact=True).wait_for()
    assert page.locator(".bell-count").count() == 0

    assert ledger.settle_due() == 1
    page.reload()
    page.get_by_role("link", name="Notifications: 1 unread").wait_for()
    assert page.locator(".bell-count").inner_text() == "1"
    assert bell.is_visible()
    # On a phone too, the bell sits in the header's first row, beside the business's name.
    brand = page.locator(".brand").bounding_box()
    box = bell.bounding_box()
    assert abs((box["y"] + box["height"] / 2) - (brand["y"] + brand["height"] / 2)) < box["height"]
    assert box["x"] + box["width"] <= page.viewport_size["width"]
    assert_accessible(page)

    page.get_by_role("link", name="Notifications: 1 unread").click()
    page.wait_for_url("**/me/notices/")
    notice = page.get_by_role("link", name="Your reward of 500 points for referring a friend")
    notice.wait_for()
    assert_accessible(page)

    page.get_by_role("button", name="Mark all as read").click()
    page.get_by_text("All notifications are marked as read.").wait_for()
    page.get_by_role("link", name="Notifications", exact=True).wait_for()
    assert page.locator(".bell-count").count() == 0
    assert page.get_by_role("button", name="Mark all as read").count() == 0
    assert_accessible(page)

    notice.click()
    page.wait_for_url("**/me/rewards/history/")
    assert_accessible(page)


def test_an_empty_notification_list_is_accessible(page, customer):
    log_in(page, customer.user.email)
    page.get_by_role("link", name="Notifications", exact=True).click()
    page.wait_for_url("**/me/notices/")
    page.get_by_text("No notifications yet").wait_for()
    assert_accessible(page)


def test_one_notice_is_marked_read_from_its_own_button(page, customer):
    for number in range(2):
        notice_create(
            customer=customer,
            kind="data_export_ready",
            url="/me/data/",
            source_key=f"export:{number}",
        )
    log_in(page, customer.user.email)
    page.goto("/me/notices/")
    page.get_by_role("link", name="Notifications: 2 unread").wait_for()
    page.get_by_role("button", name="Mark as read").first.click()
    page.get_by_role("link", name="Notifications: 1 unread").wait_for()
    assert page.get_by_role("button", name="Mark as read").count() == 1
    assert_accessible(page)
