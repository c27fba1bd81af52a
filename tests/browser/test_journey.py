"""The whole customer journey in one real browser session, from the home page to the staff funnel.

Anna joins, invites friends, Ben follows her invitation and buys through a partner site,
the hold passes, Anna spends and gives her points and reviews the coffee; staff publish
and answer the review and see the funnel. Every page is checked for accessibility; the
key pages are photographed at 375 px and 1280 px under test-artifacts/screenshots/.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from customers.models import Customer, User
from loyalty import ledger
from loyalty.models import Voucher
from loyalty.selectors import balance_with_next_settlement
from partners.models import Partner
from partners.services import partner_create
from referrals.invitations import invitations_send
from referrals.models import Invitation, Referral
from reviews.models import Review
from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import DESKTOP, PHONE, enter_second_factor, log_in, watch_pages
from tests.loyalty.factories import RewardFactory
from tests.referrals.factories import active_program
from tests.reviews.factories import SubjectFactory
from tests.support import second_factor_add

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "a-long-Journey-password-7"
REPLY = "Thank you, Anna! See you tomorrow morning."
LINK = re.compile(r"https?://\S+")


@pytest.fixture
def new_page(browser, live_server, settings):
    """A fresh desktop browser (own cookies) per person; email links lead to the live server."""
    settings.SITE_URL = live_server.url
    contexts, watched = [], []

    def open_page():
        context = browser.new_context(viewport=DESKTOP, base_url=live_server.url)
        watched.append(watch_pages(context)[1])
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield open_page
    for context in contexts:
        context.close()
    conflicted = [message for messages in watched for message in messages]
    assert not conflicted, f"A page showed merge conflict markers: {conflicted}"


def checked(page, screenshot: str = "") -> None:
    """Accessible at 1280 px and at 375 px; a key page is photographed at both sizes."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        for size in (DESKTOP, PHONE):
            page.set_viewport_size(size)
            assert_accessible(page)
            if screenshot:
                path = SCREENSHOTS / f"{screenshot}-{size['width']}.png"
                page.screenshot(path=path, full_page=True)
    finally:
        page.set_viewport_size(DESKTOP)


def link_in_mail(to: str, path: str) -> str:
    """The link to `path` in the latest email to `to` (the live server shares the outbox)."""
    for message in reversed(mail.outbox):
        if to in message.to:
            links = [link for link in LINK.findall(message.body) if path in link]
            if links:
                return links[0]
    raise AssertionError(f"no email to {to} with a link to {path}")


def sign_up(page, *, email: str, first_name: str) -> None:
    page.get_by_role("textbox", name="Email").fill(email)
    page.get_by_label("First name").fill(first_name)
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url("**/accounts/confirm-email/")
    checked(page)
    page.goto(link_in_mail(email, "/accounts/confirm-email/"))
    checked(page)
    page.get_by_role("button", name="Confirm").click()


def api(shop, key: str, path: str, body: dict, idempotency_key: str) -> tuple[int, dict]:
    """A partner site's request: real HTTP to the live server, from a browser context of its own."""
    response = shop.post(
        f"/api/v1/{path}",
        data=body,
        headers={"Authorization": f"Api-Key {key}", "Idempotency-Key": idempotency_key},
    )
    return response.status, response.json()


def photo() -> dict:
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (120, 80, 40)).save(buffer, format="JPEG")
    return {"name": "cup.jpg", "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


def test_customer_journey_from_signup_to_the_staff_funnel(new_page, live_server):
    program = active_program()
    SubjectFactory(name="House Blend", slug="house-blend")
    RewardFactory(name="Free flat white", points_cost=100)
    _partner, key = partner_create(name="Coffee shop", kind=Partner.Kind.OWN)
    staff_secret = second_factor_add(
        User.objects.create_superuser(email="staff@example.com", password=PASSWORD)
    )

    # Anna finds the program, joins and verifies her address from the email.
    anna_page = new_page()
    anna_page.goto("/")
    checked(anna_page, "home")
    anna_page.get_by_role("link", name="Sign up in a minute").click()
    checked(anna_page)
    sign_up(anna_page, email="anna@example.com", first_name="Anna")
    anna_page.goto("/accounts/logout/")
    anna_page.get_by_role("main").get_by_role("button", name="Log out").click()
    log_in(anna_page, "anna@example.com", PASSWORD)
    anna = Customer.objects.get(user__email="anna@example.com")
    assert anna_page.locator("h1").inner_text() == "Hello, Anna"
    checked(anna_page, "dashboard")

    # Her referral link goes to the clipboard with one click.
    link = anna_page.get_by_role("textbox", name="Link", exact=True).input_value()
    assert link == f"{live_server.url}/r/{anna.referral_code}/"
    anna_page.get_by_role("button", name="Copy link").click()
    assert anna_page.evaluate("navigator.clipboard.readText()") == link

    # She invites two friends; the mistyped address is reported, the others go.
    anna_page.goto("/me/invite/")
    checked(anna_page)
    anna_page.get_by_label("Your friends' email addresses").fill(
        "ben@example.com, cleo@example.com\nnot-an-address"
    )
    anna_page.get_by_label("A personal note (optional)").fill("You'll love their espresso!")
    anna_page.get_by_role("button", name="Send invitations").click()
    alert = anna_page.get_by_role("alert")
    assert "not-an-address" in alert.inner_text()
    expect(anna_page.get_by_text("2 invitations on their way.")).to_be_visible()
    checked(anna_page, "invite")
    invited = Invitation.objects.filter(sender=anna).order_by("email")
    assert [invitation.email for invitation in invited] == ["ben@example.com", "cleo@example.com"]

    # The Celery task's service sends them; Ben opens his and joins through it.
    invitations_send(invitation_ids=[invitation.pk for invitation in invited])
    ben_page = new_page()
    ben_page.goto(link_in_mail("ben@example.com", "/invitation/"))
    expect(ben_page.get_by_role("heading", name="Anna thinks you'll like")).to_be_visible()
    expect(ben_page.get_by_text("You'll love their espresso!")).to_be_visible()
    checked(ben_page)
    ben_page.get_by_role("link", name="Sign up now").click()
    sign_up(ben_page, email="ben@example.com", first_name="Ben")
    ben_page.wait_for_url("**/me/dashboard/")
    checked(ben_page)
    ben = Customer.objects.get(user__email="ben@example.com")
    referral = Referral.objects.get(referee=ben)
    assert referral.referrer == anna
    assert Invitation.objects.get(email="ben@example.com").status == Invitation.Status.ACCEPTED

    # Ben buys at the partner's shop, which reports it through the API.
    shop = new_page().context.request
    status, customer = api(
        shop,
        key,
        "customers/",
        {"external_id": "shop-ben", "email": "ben@example.com", "first_name": "Ben"},
        "journey-customer-1",
    )
    assert status == 200, customer
    status, conversion = api(
        shop,
        key,
        "conversions/",
        {"customer": customer["id"], "order_id": "A-1001", "amount": "24.50", "currency": "EUR"},
        "journey-conversion-1",
    )
    assert status == 201, conversion
    reward = conversion["referral_reward"]
    assert reward["points"] == program.referrer_points
    assert reward["status"] == "pending"
    assert balance_with_next_settlement(customer=anna).settled == 0

    # The hold passes: the beat task's settlement makes the reward Anna's to spend.
    assert ledger.settle_due(as_of=timezone.now() + timedelta(days=program.hold_days + 1)) >= 2
    anna_page.goto("/me/rewards/")
    balance = anna_page.get_by_role("region", name="Your points")
    assert f"{program.referrer_points} points" in balance.inner_text()
    checked(anna_page, "rewards")

    # She redeems a voucher and gives Ben some of what is left.
    anna_page.goto("/me/rewards/catalog/")
    checked(anna_page)
    anna_page.get_by_role("link", name="Redeem").click()
    checked(anna_page)
    anna_page.get_by_role("button", name="Yes, redeem").click()
    anna_page.wait_for_url("**/me/rewards/vouchers/")
    voucher = Voucher.objects.get(customer=anna)
    expect(anna_page.get_by_text(f"Your voucher code is {voucher.code}.")).to_be_visible()
    checked(anna_page, "vouchers")
    ben_before = balance_with_next_settlement(customer=ben)
    anna_page.goto("/me/rewards/gift/")
    checked(anna_page)
    anna_page.get_by_label("Friend").select_option(label=ben.name)
    anna_page.get_by_label("How many points").fill("50")
    anna_page.get_by_label("Note").fill("Enjoy!")
    anna_page.get_by_role("button", name="Send gift").click()
    expect(anna_page.get_by_text(f"Your gift is on its way to {ben.name}.")).to_be_visible()
    checked(anna_page)
    ben_after = balance_with_next_settlement(customer=ben)
    assert ben_after.settled + ben_after.pending == ben_before.settled + ben_before.pending + 50
    anna_balance = balance_with_next_settlement(customer=anna)
    assert anna_balance.settled == program.referrer_points - 100 - 50

    # She reviews the coffee, with a photo.
    anna_page.goto("/reviews/house-blend/write/")
    checked(anna_page, "review-form")
    anna_page.get_by_label("5 out of 5").check()
    anna_page.get_by_label("Title").fill("Smooth and chocolatey")
    anna_page.get_by_label("Your review").fill("My morning cup, every day.")
    anna_page.get_by_label("Photos").set_input_files([photo()])
    anna_page.get_by_role("button", name="Send review").click()
    anna_page.wait_for_url("**/reviews/mine/")
    expect(anna_page.get_by_text("Waiting for moderation").first).to_be_visible()
    checked(anna_page)
    review = Review.objects.get(author=anna)
    assert review.photos.count() == 1

    # Staff publish it and answer in public.
    staff_page = new_page()
    staff_page.goto("/admin/login/?next=/admin/")
    checked(staff_page)
    staff_page.get_by_label("Email").fill("staff@example.com")
    staff_page.get_by_label("Password").fill(PASSWORD)
    staff_page.get_by_role("button", name="Log in", exact=True).click()
    enter_second_factor(staff_page, staff_secret, then="**/admin/")
    checked(staff_page)
    staff_page.goto("/admin/reviews/review/")
    checked(staff_page)
    staff_page.get_by_role("checkbox", name="Smooth and chocolatey").check()
    staff_page.locator("select[name=action]").select_option(label="Publish selected reviews")
    staff_page.get_by_role("button", name="Go").click()
    expect(staff_page.get_by_text("1 reviews published.")).to_be_visible()
    staff_page.get_by_role("link", name="Smooth and chocolatey").click()
    checked(staff_page)
    staff_page.get_by_role("textbox", name="Reply").fill(REPLY)
    staff_page.get_by_role("button", name="Save", exact=True).click()
    checked(staff_page)
    review.refresh_from_db()
    assert review.status == Review.Status.PUBLISHED
    assert review.reply.body == REPLY

    # Everyone sees the review and the answer on the subject page.
    ben_page.goto("/reviews/house-blend/")
    expect(ben_page.get_by_text("Smooth and chocolatey")).to_be_visible()
    expect(ben_page.get_by_text(REPLY)).to_be_visible()
    checked(ben_page, "subject")

    # The funnel shows the journey: two friends invited, one who joined and bought.
    staff_page.goto("/admin/dashboard/")
    checked(staff_page, "staff-dashboard")
    rows = staff_page.get_by_role("region", name="Referral funnel").get_by_role("row")
    funnel = dict(row.split("\t") for row in rows.all_inner_texts())
    assert funnel == {
        "Friends invited or referred": "2",
        "Friends joined": "1",
        "Friends bought": "1",
        "Rewards settled": "1",
    }
