"""The widget on a partner's page in a real browser: the demo shop on one loopback origin
(its own server, signing customer tokens, under a strict CSP) embeds the script from
Kindred's live server on another."""

from __future__ import annotations

import socket
import time

import jwt
import pytest

from loyalty import ledger
from loyalty.models import Redemption
from partners.demo_shop import serve
from partners.models import Partner
from partners.services import partner_customer_upsert
from reviews.questions import answer_create
from reviews.services import review_reply_set
from tests.browser.accessibility import assert_accessible
from tests.loyalty.factories import RewardFactory
from tests.partners.factories import PartnerFactory
from tests.referrals.factories import active_program
from tests.reviews.factories import QuestionFactory, ReviewFactory, SubjectFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_shop(partner: Partner, kindred: str, *, secret: str | None = None) -> str:
    port = free_port()
    server = serve(
        port=port,
        kindred=kindred,
        key=partner.publishable_key,
        secret=secret or partner.widget_secret,
    )
    start_shop.servers.append(server)
    return f"http://127.0.0.1:{port}"


start_shop.servers = []


@pytest.fixture(autouse=True)
def _stop_shops():
    yield
    while start_shop.servers:
        start_shop.servers.pop().shutdown()


def allow(partner: Partner, origin: str) -> None:
    Partner.objects.filter(pk=partner.pk).update(widget_origins=origin)


@pytest.fixture
def partner(customer):
    partner = PartnerFactory(name="Demo shop")
    partner_customer_upsert(partner=partner, external_id="shop-anna", email=customer.user.email)
    return partner


@pytest.fixture
def shop(partner, live_server):
    url = start_shop(partner, live_server.url)
    allow(partner, url)
    return url


def launcher(page):
    return page.locator("[data-kindred-widget]").get_by_role("button", name="Rewards")


def panel(page):
    return page.get_by_role("dialog", name="Kindred Coffee Roasters rewards")


def log_in_at_shop(page, external_id: str) -> None:
    page.get_by_label("Your shop customer id").fill(external_id)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.locator("#shop-customer").wait_for()


def test_visitor_then_customer_sees_points_redeems_and_logs_out(page, shop, customer):
    active_program(friend_offer="A free coffee")
    ledger.points_award(customer=customer, points=300, kind="earn", memo="Order A-1")
    RewardFactory(name="Free flat white", points_cost=100)
    page.goto(shop)
    launcher(page).click()
    dialog = panel(page)
    dialog.get_by_role("link", name="Join and earn points").wait_for()
    assert "300" not in dialog.inner_text()
    page.keyboard.press("Escape")
    assert not dialog.is_visible()

    log_in_at_shop(page, "shop-anna")
    launcher(page).filter(has_text="300").wait_for()
    launcher(page).click()
    dialog.get_by_text("300").first.wait_for()
    link = dialog.get_by_label("Your referral link")
    assert link.input_value().endswith(f"/r/{customer.referral_code}/")
    dialog.get_by_role("button", name="Redeem: Free flat white").click()
    dialog.get_by_text("Redeem Free flat white for 100 points?").wait_for()
    dialog.get_by_role("button", name="Yes, redeem").click()
    voucher = Redemption.objects.none()
    dialog.get_by_text("Your voucher code is").wait_for()
    voucher = Redemption.objects.get(customer=customer).voucher
    assert voucher.code in dialog.inner_text()
    launcher(page).filter(has_text="200").wait_for(state="attached")
    page.keyboard.press("Escape")

    page.get_by_role("button", name="Log out", exact=True).click()
    page.get_by_label("Your shop customer id").wait_for()
    launcher(page).click()
    panel(page).get_by_role("link", name="Join and earn points").wait_for()
    assert customer.referral_code not in panel(page).inner_text()


def test_a_single_page_shop_identifies_and_forgets_the_customer(page, shop, customer):
    ledger.points_award(customer=customer, points=120, kind="earn", memo="Order A-1")
    page.goto(shop)
    launcher(page).wait_for()
    page.get_by_label("Your shop customer id").fill("shop-anna")
    page.get_by_role("button", name="Log in without reloading").click()
    launcher(page).filter(has_text="120").wait_for()
    page.get_by_role("button", name="Log out without reloading").click()
    launcher(page).filter(has_text="120").wait_for(state="detached")
    assert launcher(page).inner_text() == "Rewards"


def _signed(secret: str, *, sub: str = "shop-anna", aud: str, exp: float) -> str:
    return jwt.encode({"sub": sub, "aud": aud, "exp": int(exp)}, secret, algorithm="HS256")


@pytest.mark.parametrize("kind", ["forged", "expired", "other-partner"])
def test_bad_tokens_see_the_signed_out_panel(page, shop, partner, customer, live_server, kind):
    ledger.points_award(customer=customer, points=120, kind="earn", memo="Order A-1")
    other = PartnerFactory()
    partner_customer_upsert(partner=other, external_id="shop-anna", email=customer.user.email)
    secret = {
        "forged": "wsec_a-forgery-of-the-right-length-0123456789",
        "expired": partner.widget_secret,
        "other-partner": other.widget_secret,
    }[kind]
    exp = time.time() - 120 if kind == "expired" else time.time() + 300
    token = _signed(secret, aud=live_server.url, exp=exp)
    page.goto(shop)
    launcher(page).wait_for()
    with page.expect_response("**/widget/v1/panel/") as answered:
        page.evaluate("token => window.Kindred.identify(token)", token)
    assert answered.value.json()["customer"] is None
    launcher(page).click()
    panel(page).get_by_role("link", name="Join and earn points").wait_for()
    assert "120" not in page.locator("body").inner_text()
    assert customer.referral_code not in panel(page).inner_text()


def test_a_disallowed_origin_gets_no_widget(page, partner, customer, live_server):
    shop = start_shop(partner, live_server.url)
    allow(partner, "https://somewhere-else.example")
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.goto(shop)
    log_in_at_shop(page, "shop-anna")
    page.wait_for_load_state("networkidle")
    assert any(url.endswith("/widget/v1/panel/") for url in asked)
    assert launcher(page).count() == 0
    assert customer.referral_code not in page.content()


def test_the_reviews_block_renders_with_replies_labels_and_structured_data(
    page, shop, django_user_model
):
    subject = SubjectFactory(slug="house-blend", name="House blend")
    staff = django_user_model.objects.create_user(email="team@example.com", is_staff=True)
    for number in range(6):
        ReviewFactory(subject=subject, rating=5, title=f"Lovely {number}", incentivised=number == 5)
    review_reply_set(
        review=subject.reviews.order_by("-created_at").first(), author=staff, body="Thank you!"
    )
    question = QuestionFactory(subject=subject, body="Is it good as espresso?")
    answer_create(question=question, author=staff, body="Yes: 18 g in, 36 g out.")
    page.goto(shop)
    block = page.locator("[data-kindred-reviews]")
    block.get_by_role("heading", name="Reviews: House blend").wait_for()
    block.get_by_text("5.0 out of 5 from 6 reviews").wait_for()
    block.get_by_text("Thank you!").wait_for()
    block.get_by_text("Received a reward for this review").wait_for()
    assert block.get_by_role("heading", name="Lovely 0").count() == 0
    block.get_by_role("heading", name="Questions and answers").wait_for()
    block.get_by_role("heading", name="Is it good as espresso?").wait_for()
    block.get_by_text("Yes: 18 g in, 36 g out.").wait_for()
    block.get_by_text("Staff", exact=True).wait_for()
    block.get_by_role("button", name="More reviews").click()
    block.get_by_role("heading", name="Lovely 0").wait_for()
    structured = page.locator('head script[type="application/ld+json"]').text_content()
    assert '"AggregateRating"' in structured and '"reviewCount": 6' in structured.replace(
        ":6", ": 6"
    )
    assert_accessible(page)


def test_keyboard_only_opens_uses_and_closes_the_panel(page, shop, customer):
    ledger.points_award(customer=customer, points=300, kind="earn", memo="Order A-1")
    RewardFactory(name="Free flat white", points_cost=100)
    page.goto(shop)
    log_in_at_shop(page, "shop-anna")
    launcher(page).filter(has_text="300").wait_for()
    launcher(page).focus()
    page.keyboard.press("Enter")
    dialog = panel(page)
    dialog.wait_for()
    assert page.evaluate("() => document.activeElement.shadowRoot.activeElement.id") == "k-close"
    redeem = dialog.get_by_role("button", name="Redeem: Free flat white")
    for _ in range(20):
        page.keyboard.press("Tab")
        if redeem.evaluate("el => el.getRootNode().activeElement === el"):
            break
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")  # "Yes, redeem" has the focus
    dialog.get_by_text("Your voucher code is").wait_for()
    page.keyboard.press("Escape")
    assert not dialog.is_visible()
    assert page.evaluate(
        "() => document.activeElement.shadowRoot.activeElement.className"
    ).startswith("launch")


def test_the_open_panel_is_accessible(page, shop, customer):
    active_program(friend_offer="A free coffee")
    ledger.points_award(customer=customer, points=300, kind="earn", memo="Order A-1")
    RewardFactory(name="Free flat white", points_cost=100)
    page.goto(shop + f"/?ref={customer.referral_code}")
    launcher(page).click()
    panel(page).get_by_text("Anna invites you: A free coffee").wait_for()
    assert page.evaluate("() => window.Kindred.referralCode()") == customer.referral_code
    assert_accessible(page)
    page.keyboard.press("Escape")
    log_in_at_shop(page, "shop-anna")
    launcher(page).filter(has_text="300").click()
    panel(page).get_by_role("button", name="Redeem: Free flat white").wait_for()
    assert_accessible(page)
    assert page.evaluate("() => window.Kindred.referralCode()") == customer.referral_code


def test_the_shop_page_loads_when_kindred_is_down(page, partner):
    unreachable = f"http://127.0.0.1:{free_port()}"
    shop = start_shop(partner, unreachable)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    started = time.monotonic()
    page.goto(shop, wait_until="load")
    assert time.monotonic() - started < 5
    page.get_by_role("heading", name="House blend, 250 g").wait_for()
    page.get_by_label("Your shop customer id").fill("shop-anna")
    page.wait_for_timeout(500)
    assert launcher(page).count() == 0
    assert errors == []
