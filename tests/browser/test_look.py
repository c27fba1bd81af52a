"""Every page of the portal as the demo customer sees it, on a phone and on a desktop."""

from __future__ import annotations

import io
from importlib import import_module

import pytest
from django.core.management import call_command
from PIL import Image

from customers.models import Connection, Customer, User
from loyalty.models import Tier
from reviews.models import Subject
from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import enter_second_factor, log_in
from tests.support import second_factor_add

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "kindred-demo"

PAGES = [
    "/",
    "/reviews/",
    "/reviews/{subject}/",
    "/reviews/{subject}/write/",
    "/reviews/mine/",
    "/me/dashboard/",
    "/me/friends/",
    "/me/friends/{connection}/remove/",
    "/me/invite/",
    "/me/rewards/",
    "/me/rewards/history/",
    "/me/rewards/catalog/",
    "/me/rewards/vouchers/",
    "/me/rewards/gift/",
    "/me/profile/",
    "/me/data/",
    "/me/delete/",
    "/accounts/email/",
    "/accounts/password/change/",
]


@pytest.fixture
def demo(live_server):
    """The demo data `make run` shows: Anna with friends, points, vouchers and reviews."""
    # The tiers come from a data migration, which an earlier transactional test emptied.
    for name, points, referrals, multiplier, benefits in import_module(
        "loyalty.migrations.0004_seed_tiers"
    ).TIERS:
        Tier.objects.get_or_create(
            name=name,
            defaults={
                "min_points": points,
                "min_referrals": referrals,
                "multiplier": multiplier,
                "benefits": benefits,
            },
        )
    call_command("seed_demo", "--yes", stdout=io.StringIO())
    anna = Customer.objects.get(user__email="anna@example.com")
    connection = (
        Connection.objects.filter(requester=anna, status=Connection.Status.CONFIRMED).first()
        or Connection.objects.filter(addressee=anna, status=Connection.Status.CONFIRMED).first()
    )
    return {"subject": Subject.objects.first().slug, "connection": connection.pk}


def test_every_page_fits_the_screen_passes_axe_and_logs_no_error(page, demo):
    errors = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, "anna@example.com", DEMO_PASSWORD)
    failures = {}
    for path in PAGES:
        url = path.format(**demo)
        response = page.goto(url)
        try:
            assert response.status == 200, f"answered {response.status}"
            assert_accessible(page)
            assert errors == [], f"console errors: {errors}"
        except AssertionError as failure:
            failures[url] = str(failure)
        errors.clear()
    assert failures == {}


def test_staff_dashboard_chart_text_is_readable_on_a_phone_and_a_desktop(page, demo):
    secret = second_factor_add(User.objects.get(email="staff@example.com"))
    page.goto("/admin/login/?next=/admin/dashboard/")
    page.get_by_label("Email").fill("staff@example.com")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    enter_second_factor(page, secret, then="**/admin/dashboard/")
    sizes = page.evaluate(
        """() => [...document.querySelectorAll('svg text')].map(text =>
             parseFloat(text.getAttribute('font-size')) * text.getScreenCTM().a)"""
    )
    assert sizes, "the dashboard draws its charts"
    assert min(sizes) >= 11, f"chart text is drawn at {min(sizes):.1f}px"
    assert max(sizes) <= 20, f"chart text is drawn at {max(sizes):.1f}px"
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0


def test_invited_addresses_stay_on_one_line(page, demo):
    log_in(page, "anna@example.com", DEMO_PASSWORD)
    page.goto("/me/invite/")
    cells = page.locator("table.list td.long")
    assert cells.count() > 0
    for index in range(cells.count()):
        lines = cells.nth(index).evaluate(
            """cell => { const range = document.createRange(); range.selectNodeContents(cell);
                 return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size; }"""
        )
        assert lines == 1, f"{cells.nth(index).inner_text()} breaks over {lines} lines"


def test_rewards_pages_mark_the_current_tab_and_show_progress_in_the_brand_colour(page, demo):
    log_in(page, "anna@example.com", DEMO_PASSWORD)
    page.goto("/me/rewards/history/")
    current = page.locator('.subnav a[aria-current="page"]')
    assert current.count() == 1 and current.inner_text() == "History"
    brand = page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--brand')")
    assert current.evaluate("a => getComputedStyle(a).backgroundColor") == _rgb(brand)
    gap = page.evaluate(
        """() => document.querySelector('.card').getBoundingClientRect().top
                 - document.querySelector('.subnav').getBoundingClientRect().bottom"""
    )
    assert gap >= 8, "the sub-navigation keeps its distance from the cards"
    page.goto("/me/rewards/")
    bar = page.locator("progress")
    assert float(bar.get_attribute("value")) > 10
    # The filled part of the bar, as drawn: a pseudo-element's style cannot be read.
    drawn = Image.open(io.BytesIO(bar.screenshot()))
    assert drawn.convert("RGB").getpixel((drawn.width // 20, drawn.height // 2)) == _channels(brand)


def test_deleting_the_account_is_a_danger_button_not_the_ordinary_one(page, demo):
    log_in(page, "anna@example.com", DEMO_PASSWORD)
    page.goto("/me/delete/")
    danger = page.get_by_role("button", name="Delete my account for good")
    page.goto("/me/data/")
    ordinary = page.get_by_role("button", name="Prepare my archive").evaluate(
        "b => getComputedStyle(b).backgroundColor"
    )
    page.goto("/me/delete/")
    error = page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--error')")
    colour = danger.evaluate("b => getComputedStyle(b).backgroundColor")
    assert colour == _rgb(error) != ordinary


def _channels(hex_colour: str) -> tuple[int, int, int]:
    value = hex_colour.strip().lstrip("#")
    return tuple(int(value[i : i + 2], 16) for i in (0, 2, 4))


def _rgb(hex_colour: str) -> str:
    return "rgb({}, {}, {})".format(*_channels(hex_colour))
