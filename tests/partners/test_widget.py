"""The widget's endpoints: customer tokens, CORS per partner, the panel, redemption,
the reviews block and the script itself."""

from __future__ import annotations

import gzip
import json
import time
from datetime import timedelta

import jwt
import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from customers.models import StaffAccess
from loyalty import ledger
from loyalty.models import Redemption, Transaction
from partners.models import Partner, PartnerCustomer
from partners.services import partner_customer_upsert
from partners.widget.services import widget_keys_rotate
from partners.widget.tokens import customer_token_sign, token_customer
from reviews.questions import answer_create
from reviews.services import review_reply_set
from tests.factories import CustomerFactory
from tests.loyalty.factories import RewardFactory, settled_points
from tests.partners.factories import PartnerFactory
from tests.referrals.factories import active_program
from tests.reviews.factories import QuestionFactory, ReviewFactory, SubjectFactory

pytestmark = pytest.mark.django_db

SHOP = "https://shop.example.com"
FORGED_SECRET = "wsec_a-secret-of-the-right-length-but-not-theirs"


@pytest.fixture
def partner():
    partner = PartnerFactory()
    Partner.objects.filter(pk=partner.pk).update(widget_origins=f"{SHOP}\nhttps://m.example.com")
    partner.refresh_from_db()
    return partner


@pytest.fixture
def anna(partner):
    customer = CustomerFactory(first_name="Anna", email="anna@example.com")
    partner_customer_upsert(partner=partner, external_id="shop-anna", email="anna@example.com")
    return customer


def sign(secret: str, sub: str = "shop-anna", *, exp: float | None = None, aud: str = "") -> str:
    from django.conf import settings

    claims = {"sub": sub, "aud": aud or settings.SITE_URL, "exp": exp or time.time() + 300}
    return jwt.encode(claims, secret, algorithm="HS256")


def panel(partner, token: str | None = None, *, origin: str = SHOP, **extra):
    body = {"key": partner.publishable_key, "token": token, **extra}
    return Client().post(
        "/widget/v1/panel/", json.dumps(body), content_type="text/plain", HTTP_ORIGIN=origin
    )


# Tokens


def test_a_valid_token_names_the_actively_linked_customer(partner, anna):
    token = customer_token_sign(partner=partner, external_id="shop-anna")
    assert token_customer(partner=partner, token=token) == anna


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda p: sign(p.widget_secret, exp=time.time() - 120), id="expired"),
        pytest.param(lambda p: sign(p.widget_secret, exp=time.time() + 3600), id="too-long"),
        pytest.param(lambda p: sign(FORGED_SECRET), id="forged"),
        pytest.param(lambda p: sign(p.widget_secret, aud="https://evil.example"), id="audience"),
        pytest.param(lambda p: sign(p.widget_secret, sub="shop-nobody"), id="unknown-sub"),
        pytest.param(
            lambda p: jwt.encode({"sub": "shop-anna", "exp": time.time() + 60}, p.widget_secret),
            id="no-audience",
        ),
        pytest.param(
            lambda p: jwt.encode({"sub": "shop-anna", "aud": "x"}, "", algorithm="none"),
            id="unsigned",
        ),
        pytest.param(lambda p: "not-a-token", id="garbage"),
        pytest.param(lambda p: "", id="empty"),
    ],
)
def test_a_bad_token_names_no_one(partner, anna, make):
    assert token_customer(partner=partner, token=make(partner)) is None


def test_another_partners_token_names_no_one(partner, anna):
    other = PartnerFactory()
    partner_customer_upsert(partner=other, external_id="shop-anna", email="anna@example.com")
    token = customer_token_sign(partner=other, external_id="shop-anna")
    assert token_customer(partner=partner, token=token) is None
    assert token_customer(partner=other, token=token) == anna


@pytest.mark.parametrize("status", [PartnerCustomer.Status.PENDING, PartnerCustomer.Status.ENDED])
def test_a_link_that_is_not_active_names_no_one(partner, anna, status):
    PartnerCustomer.objects.filter(partner=partner).update(status=status)
    token = customer_token_sign(partner=partner, external_id="shop-anna")
    assert token_customer(partner=partner, token=token) is None


def test_rotated_keys_refuse_the_old_secret_and_are_in_the_access_trail(partner, anna):
    staff = get_user_model().objects.create_user(email="staff@example.com", is_staff=True)
    old_token = customer_token_sign(partner=partner, external_id="shop-anna")
    old_key = partner.publishable_key
    widget_keys_rotate(partner=partner, staff=staff, path="/admin/partners/partner/")
    partner.refresh_from_db()
    assert partner.publishable_key != old_key
    assert token_customer(partner=partner, token=old_token) is None
    assert StaffAccess.objects.filter(staff=staff, action="widget_key").count() == 1


# CORS and keys


def test_the_panel_answers_an_allowed_origin_with_that_origin_only(partner):
    response = panel(partner, origin="https://m.example.com")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "https://m.example.com"
    assert "Access-Control-Allow-Credentials" not in response
    assert not response.cookies


@pytest.mark.parametrize("origin", ["https://evil.example", "https://shop.example.com.evil", None])
def test_the_panel_refuses_other_origins_without_cors_headers(partner, anna, origin):
    token = customer_token_sign(partner=partner, external_id="shop-anna")
    body = json.dumps({"key": partner.publishable_key, "token": token})
    headers = {"HTTP_ORIGIN": origin} if origin else {}
    response = Client().post("/widget/v1/panel/", body, content_type="text/plain", **headers)
    assert response.status_code == 403
    assert response.json()["error"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in response
    assert b"Anna" not in response.content


def test_an_unknown_or_inactive_key_is_refused(partner):
    response = Client().post(
        "/widget/v1/panel/", '{"key": "pk_nope"}', content_type="text/plain", HTTP_ORIGIN=SHOP
    )
    assert (response.status_code, response.json()["error"]) == (403, "unknown_key")
    Partner.objects.filter(pk=partner.pk).update(active=False, publishable_key="pk_inactive")
    response = Client().post(
        "/widget/v1/panel/", '{"key": "pk_inactive"}', content_type="text/plain", HTTP_ORIGIN=SHOP
    )
    assert response.status_code == 403


def test_a_preflight_is_answered_for_allowed_origins_only(partner):
    url = f"/widget/v1/panel/?key={partner.publishable_key}"
    allowed = Client().options(url, HTTP_ORIGIN=SHOP)
    assert allowed["Access-Control-Allow-Origin"] == SHOP
    refused = Client().options(url, HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in refused


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b"x" * 9000])
def test_a_malformed_body_is_a_clear_error(partner, body):
    response = Client().post("/widget/v1/panel/", body, content_type="text/plain", HTTP_ORIGIN=SHOP)
    assert response.status_code in (400, 413)
    assert response.json()["error"] in ("bad_json", "too_large")


def test_origins_in_the_admin_must_be_origins():
    from django.core.exceptions import ValidationError

    partner = PartnerFactory()
    partner.widget_origins = "https://shop.example.com\nhttps://shop.example.com/cart"
    with pytest.raises(ValidationError):
        partner.full_clean()
    partner.widget_origins = "https://shop.example.com\nhttp://127.0.0.1:8001"
    partner.full_clean()


# The panel


def test_the_signed_out_panel_shows_the_offer_and_nothing_private(partner, anna):
    active_program(friend_offer="10% off your first order")
    data = panel(partner, None).json()
    assert data["customer"] is None
    assert data["offer"]["friend"] == "10% off your first order"
    assert data["signup_url"].endswith("/accounts/signup/")
    assert "anna" not in json.dumps(data).lower()


def test_a_referral_code_shows_the_friends_offer(partner, anna):
    active_program(friend_offer="A free coffee")
    data = panel(partner, None, ref=anna.referral_code.lower()).json()
    assert data["referral"]["first_name"] == "Anna"
    assert data["referral"]["offer"] == "A free coffee"
    assert panel(partner, None, ref="NOSUCHCODE").json()["referral"] is None


def test_the_signed_in_panel_shows_points_link_and_affordable_rewards(partner, anna):
    settled_points(anna, 150)
    cheap, _dear = RewardFactory(points_cost=100, name="Espresso"), RewardFactory(points_cost=500)
    token = customer_token_sign(partner=partner, external_id="shop-anna")
    data = panel(partner, token).json()
    member = data["customer"]
    assert member["points"] == {"settled": 150, "pending": 0}
    assert member["referral"]["url"].endswith(f"/r/{anna.referral_code}/")
    assert [reward["id"] for reward in member["rewards"]] == [str(cheap.public_id)]
    assert member["activity"][0]["points"] == 150


def test_the_panel_speaks_the_customers_language_then_the_pages(partner, anna):
    assert panel(partner, None, lang="de-DE").json()["strings"]["redeem"] == "Einlösen"
    anna.language = "fr"
    anna.save()
    token = customer_token_sign(partner=partner, external_id="shop-anna")
    assert panel(partner, token, lang="de").json()["strings"]["redeem"] == "Échanger"


def test_the_panel_of_a_signed_in_customer_takes_a_fixed_number_of_queries(
    partner, anna, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    settled_points(anna, 150)
    token = customer_token_sign(partner=partner, external_id="shop-anna")
    # The first places the tier; the key and tier list stay in the process once committed.
    with django_capture_on_commit_callbacks(execute=True):
        panel(partner, token)
    with django_assert_max_num_queries(1):
        assert panel(partner, token).status_code == 200


def test_the_panel_shows_a_posting_settlement_void_and_redemption_at_once(partner, anna):
    settled_points(anna, 150)
    token = customer_token_sign(partner=partner, external_id="shop-anna")

    def shown():
        member = panel(partner, token).json()["customer"]
        return member["points"], [(row["points"], row["pending"]) for row in member["activity"]]

    assert shown() == ({"settled": 150, "pending": 0}, [(150, False)])
    ledger.points_award(
        customer=anna,
        points=40,
        kind=Transaction.Kind.EARN,
        memo="Held",
        settles_at=timezone.now() + timedelta(days=1),
    )
    assert shown() == ({"settled": 150, "pending": 40}, [(40, True), (150, False)])
    ledger.settle_due(as_of=timezone.now() + timedelta(days=2))
    assert shown() == ({"settled": 190, "pending": 0}, [(40, False), (150, False)])
    refunded = ledger.points_award(
        customer=anna,
        points=10,
        kind=Transaction.Kind.EARN,
        memo="Refunded",
        settles_at=timezone.now() + timedelta(days=1),
    )
    assert shown()[1][0] == (10, True)
    ledger.void(transaction=refunded, reason="Refunded")
    assert shown() == ({"settled": 190, "pending": 0}, [(10, False), (40, False), (150, False)])
    assert redeem(partner, token, RewardFactory(points_cost=100)).status_code == 201
    assert shown() == (
        {"settled": 90, "pending": 0},
        [(-100, False), (10, False), (40, False), (150, False)],
    )


# Redemption


def redeem(partner, token, reward, request_id="r-1"):
    body = {
        "key": partner.publishable_key,
        "token": token,
        "reward": str(reward.public_id) if reward else "",
        "request_id": request_id,
    }
    return Client().post(
        "/widget/v1/redeem/", json.dumps(body), content_type="text/plain", HTTP_ORIGIN=SHOP
    )


def test_a_confirmed_redemption_issues_a_voucher_once(partner, anna):
    settled_points(anna, 150)
    reward = RewardFactory(points_cost=100)
    token = customer_token_sign(partner=partner, external_id="shop-anna")
    first = redeem(partner, token, reward)
    assert first.status_code == 201
    again = redeem(partner, token, reward)
    assert again.json()["voucher"]["code"] == first.json()["voucher"]["code"]
    assert Redemption.objects.filter(customer=anna).count() == 1


def test_a_redemption_without_enough_points_changes_nothing(partner, anna):
    settled_points(anna, 50)
    token = customer_token_sign(partner=partner, external_id="shop-anna")
    response = redeem(partner, token, RewardFactory(points_cost=100))
    assert (response.status_code, response.json()["error"]) == (409, "insufficient_points")
    assert not Redemption.objects.exists()


def test_a_redemption_needs_a_valid_token_a_reward_and_a_request_id(partner, anna):
    settled_points(anna, 500)
    reward = RewardFactory(points_cost=100)
    forged = sign(FORGED_SECRET)
    assert redeem(partner, forged, reward).status_code == 401
    token = customer_token_sign(partner=partner, external_id="shop-anna")
    assert redeem(partner, token, None).json()["field"] == "reward"
    assert redeem(partner, token, reward, request_id="").json()["field"] == "request_id"
    assert not Redemption.objects.exists()


# Reviews block and script


def test_the_reviews_block_pages_reviews_with_replies_and_structured_data(partner):
    subject = SubjectFactory(slug="house-blend", name="House blend")
    staff = get_user_model().objects.create_user(email="team@example.com", is_staff=True)
    reviews = [ReviewFactory(subject=subject, rating=5, incentivised=True) for _ in range(6)]
    review_reply_set(review=reviews[-1], author=staff, body="Thank you!")
    ReviewFactory(subject=subject, status="pending", title="Hidden")
    url = f"/widget/v1/reviews/house-blend/?key={partner.publishable_key}"
    first = Client().get(url, HTTP_ORIGIN=SHOP).json()
    assert first["summary"]["count"] == 6
    assert (first["page"], first["pages"], first["next_page"]) == (1, 2, 2)
    assert first["summary_text"] == "5.0 out of 5 from 6 reviews"
    assert first["star_labels"]["1"] == "1 star"
    assert first["reviews"][0]["reply"]["body"] == "Thank you!"
    assert first["reviews"][0]["incentivised"] is True
    rating = first["structured_data"]["aggregateRating"]
    assert (rating["@type"], rating["ratingValue"], rating["reviewCount"]) == (
        "AggregateRating", 5.0, 6,
    )  # fmt: skip
    second = Client().get(url + "&page=2", HTTP_ORIGIN=SHOP).json()
    assert len(second["reviews"]) == 1 and second["next_page"] is None
    assert "Hidden" not in json.dumps(first) + json.dumps(second)


def test_the_reviews_block_shows_the_newest_questions_with_labelled_answers(partner):
    subject = SubjectFactory(slug="house-blend", name="House blend")
    staff = get_user_model().objects.create_user(email="team@example.com", is_staff=True)
    asked = QuestionFactory(subject=subject, body="Good as espresso?")
    answer_create(question=asked, author=staff, body="Yes: 18 g in, 36 g out.")
    QuestionFactory(subject=subject, body="Waiting for a moderator", status="pending")
    QuestionFactory(body="About another subject")
    url = f"/widget/v1/reviews/house-blend/?key={partner.publishable_key}"
    first = Client().get(url, HTTP_ORIGIN=SHOP).json()
    (question,) = first["questions"]
    assert question["body"] == "Good as espresso?"
    assert [(a["body"], a["label"]) for a in question["answers"]] == [
        ("Yes: 18 g in, 36 g out.", "staff")
    ]
    assert first["strings"]["staff"] == "Staff"
    assert first["questions_url"].endswith("/reviews/house-blend/#questions")
    german = Client().get(url + "&lang=de", HTTP_ORIGIN=SHOP).json()
    assert german["strings"]["questions"] == "Fragen und Antworten"
    for _ in range(5):
        QuestionFactory(subject=subject)
    assert len(Client().get(url, HTTP_ORIGIN=SHOP).json()["questions"]) == 3


def test_the_reviews_block_refuses_bad_pages_and_unknown_subjects(partner):
    SubjectFactory(slug="house-blend")
    base = f"/widget/v1/reviews/%s/?key={partner.publishable_key}"
    assert Client().get(base % "nothing", HTTP_ORIGIN=SHOP).status_code == 404
    bad = Client().get(base % "house-blend" + "&page=x", HTTP_ORIGIN=SHOP)
    assert (bad.status_code, bad.json()["field"]) == (400, "page")


def test_the_script_is_javascript_cached_and_small():
    response = Client().get("/widget/v1.js", HTTP_ACCEPT_ENCODING="gzip")
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Content-Encoding"] == "gzip"
    assert "max-age" in response["Cache-Control"]
    assert len(response.content) <= 15 * 1024
    assert b"Kindred" in gzip.decompress(response.content)
    again = Client().get("/widget/v1.js", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_the_demo_partner_allows_the_demo_shop_on_the_next_port(settings):
    from partners import demo
    from partners.demo_shop import DEMO_PUBLISHABLE_KEY

    settings.SITE_URL = "http://127.0.0.1:8000"
    demo.seed()
    demo.seed()
    partner = Partner.objects.get(publishable_key=DEMO_PUBLISHABLE_KEY)
    assert partner.widget_origin_list == ["http://127.0.0.1:8001"]


def test_staff_see_the_widget_keys_beside_the_api_keys_and_rotate_them(partner, settings):
    from tests.support import login_with_second_factor

    root = get_user_model().objects.create_superuser(email="root@example.com", password="x")
    client = Client()
    login_with_second_factor(client, root)
    page = client.get(f"/admin/partners/partner/{partner.pk}/change/")
    assert partner.publishable_key in page.content.decode()
    assert "https://shop.example.com" in page.content.decode()
    old_key = partner.publishable_key
    response = client.post(
        "/admin/partners/partner/",
        {"action": "rotate_widget_keys", "_selected_action": [partner.pk]},
    )
    assert response.status_code == 302
    partner.refresh_from_db()
    assert partner.publishable_key != old_key
    assert StaffAccess.objects.filter(staff=root, action="widget_key").exists()
