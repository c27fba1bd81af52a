import datetime as dt
from decimal import Decimal
from importlib import import_module

import pytest
from django.apps import apps
from django.utils import timezone

from customers.models import Conversion, Customer
from loyalty import ledger
from loyalty.audit import ledger_audit
from loyalty.models import Account, ExchangeRate, Transaction
from loyalty.selectors import balance
from loyalty.tiers import customer_tier, tier_standing
from referrals.models import Referral
from tests.factories import CustomerFactory
from tests.loyalty.helpers import run_in_threads
from tests.partners.factories import PartnerFactory
from tests.referrals.factories import active_program
from tests.support import PartnerClient

pytestmark = pytest.mark.django_db

URL = "/api/v1/conversions/"


@pytest.fixture
def referrer():
    return CustomerFactory(email="rita@example.com", first_name="Rita")


@pytest.fixture
def friend(api, referrer):
    """A customer the partner created with Rita's referral code."""
    response = api.post(
        "/api/v1/customers/",
        {"external_id": "f-1", "email": "fred@example.com", "first_name": "Fred",
         "referral_code": referrer.referral_code.lower()},
    )  # fmt: skip
    assert response.status_code == 201, response.content
    return response.json()


def _order(customer_id, order_id="A-1001", amount="120.00", currency="EUR", **extra):
    return {"customer": customer_id, "order_id": order_id, "amount": amount,
            "currency": currency, **extra}  # fmt: skip


def test_customer_created_with_a_referral_code_is_attributed(friend, referrer):
    assert friend["referred_by"] == referrer.referral_code
    assert friend["tier"] == "Bronze"
    assert friend["referral_url"].endswith(f"/r/{friend['referral_code']}/")


def test_unknown_referral_code_is_a_field_error_and_creates_nobody(api):
    response = api.post(
        "/api/v1/customers/",
        {"external_id": "x", "email": "new@example.com", "referral_code": "NOSUCHCODE"},
    )
    assert response.status_code == 400 and "referral_code" in response.json()
    assert not Customer.objects.filter(user__email="new@example.com").exists()


def test_own_code_and_existing_customers_are_not_attributed(api, referrer):
    linked = api.post(
        "/api/v1/customers/",
        {"external_id": "r", "email": "rita@example.com", "referral_code": referrer.referral_code},
    )
    assert linked.status_code == 200 and linked.json()["referred_by"] is None
    other = CustomerFactory()
    relinked = api.post(
        "/api/v1/customers/",
        {"external_id": "o", "email": other.user.email, "referral_code": referrer.referral_code},
    )
    assert relinked.status_code == 200 and relinked.json()["referred_by"] is None
    assert not Referral.objects.exists()


def test_referral_code_lookup(api, referrer):
    active_program(friend_offer="250 welcome points on your first order")
    response = api.get(f"/api/v1/referral-codes/{referrer.referral_code.lower()}/")
    assert response.status_code == 200
    assert response.json() == {
        "code": referrer.referral_code,
        "referrer": {"first_name": "Rita"},
        "offer": "250 welcome points on your first order",
    }
    missing = api.get("/api/v1/referral-codes/NOPE2345/")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_first_purchase_of_a_referred_friend_earns_points_and_pending_rewards(
    api, friend, referrer
):
    response = api.post(URL, _order(friend["id"]))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["customer"] == friend["id"] and body["order_id"] == "A-1001"
    assert body["amount"] == "120.00" and body["currency"] == "EUR"
    assert body["status"] == "recorded" and body["points_earned"] == 120
    reward = body["referral_reward"]
    assert reward["referrer"] == str(referrer.public_id)
    assert reward["points"] == 500 and reward["status"] == "pending"
    settles_at = dt.datetime.fromisoformat(reward["settles_at"])
    assert settles_at - timezone.now() > dt.timedelta(days=13)
    assert balance(customer=referrer).pending == 500
    friend_points = api.get(f"/api/v1/customers/{friend['id']}/").json()["points"]
    assert friend_points == {"balance": 120, "pending": 250}


def test_purchase_without_referral_has_no_reward(api, linked_customer):
    body = api.post(URL, _order(linked_customer["id"], amount="9.99")).json()
    assert body["referral_reward"] is None and body["points_earned"] == 9


def test_only_the_first_purchase_qualifies(api, friend):
    api.post(URL, _order(friend["id"], order_id="A-1"))
    second = api.post(URL, _order(friend["id"], order_id="A-2")).json()
    assert second["referral_reward"] is None
    assert Transaction.objects.filter(kind="referral_reward").count() == 1


def test_same_order_under_a_new_key_is_409_duplicate_order(api, linked_customer):
    assert api.post(URL, _order(linked_customer["id"])).status_code == 201
    again = api.post(URL, _order(linked_customer["id"], amount="5.00"))
    assert again.status_code == 409
    assert again.json() == {"detail": again.json()["detail"], "code": "duplicate_order"}
    assert Conversion.objects.count() == 1


def test_another_partner_may_use_the_same_order_id(api, other_api, linked_customer):
    other = other_api.post(
        "/api/v1/customers/", {"external_id": "x", "email": "anna@example.com"}
    ).json()
    assert api.post(URL, _order(linked_customer["id"])).status_code == 201
    assert other_api.post(URL, _order(other["id"])).status_code == 201


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": "0"}, "amount"),
        ({"amount": "-5.00"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"currency": "EURO"}, "currency"),
        ({"currency": "XYZ"}, "currency"),
        ({"customer": "not-a-uuid"}, "customer"),
        ({"customer": "00000000-0000-0000-0000-000000000000"}, "customer"),
        ({"order_id": ""}, "order_id"),
    ],
)
def test_bad_purchase_is_a_field_error_and_records_nothing(api, linked_customer, changes, field):
    response = api.post(URL, {**_order(linked_customer["id"]), **changes})
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not Conversion.objects.exists() and not Transaction.objects.exists()


def test_another_partners_customer_cannot_be_given_a_purchase(other_api, linked_customer):
    response = other_api.post(URL, _order(linked_customer["id"]))
    assert response.status_code == 400 and "customer" in response.json()
    assert not Conversion.objects.exists()


def test_purchase_in_a_currency_with_a_rate_earns_converted_points(api, linked_customer):
    ExchangeRate.objects.create(currency="USD", rate=Decimal("0.5"))
    body = api.post(URL, _order(linked_customer["id"], currency="usd")).json()
    assert body["currency"] == "USD" and body["points_earned"] == 60


def test_full_refund_before_settlement_voids_the_rewards(api, friend, referrer):
    conversion = api.post(URL, _order(friend["id"])).json()
    response = api.post(f"{URL}{conversion['id']}/refund/", {})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "refunded" and body["id"] == conversion["id"]
    assert body["referral_reward"]["status"] == "voided"
    assert balance(customer=referrer).pending == 0
    assert api.get(f"/api/v1/customers/{friend['id']}/").json()["points"] == {
        "balance": 0,
        "pending": 0,
    }
    again = api.post(f"{URL}{conversion['id']}/refund/", {})
    assert again.status_code == 409 and again.json()["code"] == "already_refunded"


def test_refund_after_settlement_reverses_and_never_goes_below_zero(api, friend, referrer):
    conversion = api.post(URL, _order(friend["id"])).json()
    ledger.settle_due(as_of=timezone.now() + dt.timedelta(days=30))
    assert balance(customer=referrer).settled == 500
    body = api.post(f"{URL}{conversion['id']}/refund/", {}).json()
    assert body["referral_reward"]["status"] == "posted"
    assert balance(customer=referrer).settled == 0
    assert Transaction.objects.filter(kind="reversal").count() == 3


def test_partial_refund_takes_back_a_share_of_the_points(api, linked_customer):
    conversion = api.post(URL, _order(linked_customer["id"], amount="100.00")).json()
    body = api.post(f"{URL}{conversion['id']}/refund/", {"amount": "40.00"}).json()
    assert body["status"] == "partially_refunded" and body["points_earned"] == 100
    points = api.get(f"/api/v1/customers/{linked_customer['id']}/").json()["points"]
    assert points == {"balance": 60, "pending": 0}


@pytest.mark.parametrize("amount", ["0", "-1", "100.01", "lots"])
def test_bad_refund_amount_is_a_field_error_and_changes_nothing(api, linked_customer, amount):
    conversion = api.post(URL, _order(linked_customer["id"], amount="100.00")).json()
    response = api.post(f"{URL}{conversion['id']}/refund/", {"amount": amount})
    assert response.status_code == 400 and "amount" in response.json()
    assert Conversion.objects.get().status == "recorded"


def test_another_partners_conversion_is_404(api, other_api, linked_customer):
    conversion = api.post(URL, _order(linked_customer["id"])).json()
    response = other_api.post(f"{URL}{conversion['id']}/refund/", {})
    assert response.status_code == 404
    assert Conversion.objects.get().status == "recorded"


@pytest.mark.django_db(transaction=True)
def test_concurrent_purchases_of_one_referred_friend_reward_the_referral_once():
    active_program()
    referrer = CustomerFactory()
    partner = PartnerFactory()
    friend = (
        PartnerClient(partner)
        .post(
            "/api/v1/customers/",
            {
                "external_id": "f",
                "email": "fay@example.com",
                "referral_code": referrer.referral_code,
            },
        )
        .json()
    )

    def buy(index):
        response = PartnerClient(partner).post(URL, _order(friend["id"], order_id=f"C-{index}"))
        return response.status_code, response.json().get("referral_reward")

    results = run_in_threads(6, buy)
    assert [status for status, _reward in results] == [201] * 6, results
    assert sum(1 for _status, reward in results if reward) == 1
    assert Transaction.objects.filter(kind="referral_reward").count() == 1
    assert Transaction.objects.filter(kind="earn").count() == 6


@pytest.mark.django_db(transaction=True)
def test_concurrent_purchases_move_the_tier_placement_as_the_ledger_would_place_it():
    """Each purchase stores the moved placement with its balance under the account lock,
    so concurrent purchases (crossing into Silver on the way) lose none of it."""
    import_module("loyalty.migrations.0004_seed_tiers").seed(apps, None)
    partner = PartnerFactory()
    buyer = PartnerClient(partner).post(
        "/api/v1/customers/", {"external_id": "b", "email": "bea@example.com"}
    )
    buyer_id = buyer.json()["id"]

    def buy(index):
        order = _order(buyer_id, order_id=f"B-{index}", amount="150.00")
        return PartnerClient(partner).post(URL, order).status_code

    assert run_in_threads(8, buy) == [201] * 8
    customer = Customer.objects.get(public_id=buyer_id)
    account = Account.objects.get(customer=customer)
    assert account.tier_fresh_until is not None
    assert account.tier_points == tier_standing(customer=customer).points
    assert account.tier == customer_tier(customer=customer)
    assert account.tier.name == "Silver"
    assert ledger_audit().clean


@pytest.mark.django_db(transaction=True)
def test_statements_of_one_conversion(django_assert_max_num_queries, settings):
    """A conversion's round trips, counted as a server runs it: autocommit, commits, and
    per-process caches warm after an earlier conversion. Each is named below, so one more
    is a decision, not an accident."""
    # As in production: an email is stored in the outbox, a worker sends it.
    settings.EMAIL_OUTBOX_SEND_AT_ONCE = False
    import_module("loyalty.migrations.0004_seed_tiers").seed(apps, None)
    active_program()
    api = PartnerClient(PartnerFactory())
    customers = [
        api.post("/api/v1/customers/", {"external_id": name, "email": f"{name}@example.com"})
        for name in ("warm", "plain")
    ]
    warm, plain = (response.json()["id"] for response in customers)
    assert api.post(URL, _order(warm, order_id="W-1")).status_code == 201
    assert api.post(URL, _order(plain, order_id="P-1")).status_code == 201
    referrer = CustomerFactory()
    friend = api.post(
        "/api/v1/customers/",
        {"external_id": "f", "email": "fay@example.com", "referral_code": referrer.referral_code},
    ).json()["id"]

    # The idempotency claim, the customer (with whether they were referred: they were not,
    # so no referral lock), the purchase (no savepoint: the unique constraint skips a
    # repeat), the account locked with its tier placement, the posting (its key decides a
    # repeat), entries, the balance with the placement moved along (no year of ledger added
    # up, no tier list read below the next tier), the commit and the stored response.
    with django_assert_max_num_queries(10):
        response = api.post(URL, _order(plain, order_id="P-2"))
    assert response.status_code == 201 and response.json()["points_earned"] == 120

    # Besides: the program, the referrer (locked), the monthly cap, both rewards posted,
    # the friend's and the referrer's first accounts, the referral-expense account, the
    # referral saved and the webhook's partners; the friend's welcome-gift email stored in
    # the outbox with it (the referral read with its gift, the gift's points, the email).
    with django_assert_max_num_queries(35):
        response = api.post(URL, _order(friend, order_id="F-1"))
    assert response.json()["referral_reward"]["points"] == 500
