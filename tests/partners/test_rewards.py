import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from customers.models import Customer
from loyalty.ledger import points_award
from loyalty.models import Redemption, Reward, Voucher
from loyalty.selectors import balance
from tests.loyalty.factories import RewardFactory, settled_points

pytestmark = pytest.mark.django_db


@pytest.fixture
def coffee():
    return RewardFactory(
        name="Free flat white", description="Any size", points_cost=100,
        kind=Reward.Kind.FREE_PRODUCT, value=Decimal("3.50"),
    )  # fmt: skip


@pytest.fixture
def rich(linked_customer):
    customer = Customer.objects.get(public_id=linked_customer["id"])
    settled_points(customer, 250)
    return customer


def _redeem(api, customer, reward, **extra):
    return api.post(
        "/api/v1/redemptions/",
        {"customer": str(customer.public_id), "reward": str(reward.public_id)},
        **extra,
    )


def test_catalog_lists_active_rewards_only(api, coffee):
    RewardFactory(name="Retired", is_active=False)
    RewardFactory(name="Sold out", stock=0)
    body = api.get("/api/v1/rewards/").json()
    assert body["count"] == 1
    assert body["results"] == [
        {"id": str(coffee.public_id), "name": "Free flat white", "description": "Any size",
         "points_cost": 100, "kind": "free_product", "value": "3.50"},
    ]  # fmt: skip


def test_redemption_spends_settled_points_and_issues_a_voucher(api, rich, coffee):
    response = _redeem(api, rich, coffee)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["customer"] == str(rich.public_id) and body["reward"] == str(coffee.public_id)
    assert body["points_spent"] == 100
    assert body["voucher"]["status"] == "active"
    assert Voucher.objects.get().code == body["voucher"]["code"]
    assert balance(customer=rich).settled == 150


def test_a_retried_redemption_spends_once(api, rich, coffee):
    first = _redeem(api, rich, coffee, idempotency_key="redeem-1")
    again = _redeem(api, rich, coffee, idempotency_key="redeem-1")
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Redemption.objects.count() == 1 and balance(customer=rich).settled == 150


def test_not_enough_settled_points_is_409_and_changes_nothing(api, linked_customer, coffee):

    customer = Customer.objects.get(public_id=linked_customer["id"])
    points_award(
        customer=customer, points=500, kind="earn", memo="Held",
        settles_at=timezone.now() + dt.timedelta(days=14),
    )  # fmt: skip
    settled_points(customer, 99)
    response = _redeem(api, customer, coffee)
    assert response.status_code == 409
    assert response.json() == {"detail": response.json()["detail"], "code": "insufficient_points"}
    assert not Redemption.objects.exists() and not Voucher.objects.exists()
    assert balance(customer=customer).settled == 99


def test_out_of_stock_reward_is_refused(api, rich):
    reward = RewardFactory(stock=1)
    assert _redeem(api, rich, reward).status_code == 201
    response = _redeem(api, rich, reward)
    assert response.status_code == 400 and "reward" in response.json()
    assert balance(customer=rich).settled == 150


def test_unknown_customer_or_reward_is_a_field_error(api, other_api, rich, coffee):
    inactive = RewardFactory(is_active=False)
    assert "reward" in _redeem(api, rich, inactive).json()
    assert "customer" in _redeem(other_api, rich, coffee).json()
    response = api.post("/api/v1/redemptions/", {"customer": "x", "reward": "y"})
    assert response.status_code == 400 and set(response.json()) == {"customer", "reward"}
    assert not Redemption.objects.exists()


def test_read_and_use_a_voucher_once(api, rich, coffee):
    code = _redeem(api, rich, coffee).json()["voucher"]["code"]
    read = api.get(f"/api/v1/vouchers/{code.lower()}/")
    assert read.status_code == 200
    assert read.json() == {
        "code": code, "status": "active", "reward": str(coffee.public_id),
        "customer": str(rich.public_id), "expires_at": read.json()["expires_at"],
    }  # fmt: skip
    used = api.post(f"/api/v1/vouchers/{code}/use/", {"order_id": "A-77"})
    assert used.status_code == 200 and used.json()["status"] == "used"
    again = api.post(f"/api/v1/vouchers/{code}/use/", {"order_id": "A-78"})
    assert again.status_code == 409
    assert again.json() == {"detail": again.json()["detail"], "code": "voucher_used"}
    assert Voucher.objects.get().used_order_id == "A-77"


def test_an_expired_voucher_reads_expired_and_cannot_be_used(api, rich, coffee):
    code = _redeem(api, rich, coffee).json()["voucher"]["code"]
    Voucher.objects.update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    assert api.get(f"/api/v1/vouchers/{code}/").json()["status"] == "expired"
    response = api.post(f"/api/v1/vouchers/{code}/use/", {"order_id": "A-1"})
    assert response.status_code == 409 and response.json()["code"] == "voucher_expired"


def test_a_void_voucher_cannot_be_used(api, rich, coffee):
    code = _redeem(api, rich, coffee).json()["voucher"]["code"]
    Voucher.objects.update(status=Voucher.Status.VOID)
    response = api.post(f"/api/v1/vouchers/{code}/use/", {"order_id": "A-1"})
    assert response.status_code == 409 and response.json()["code"] == "voucher_void"


def test_unknown_and_other_partners_vouchers_are_404(api, other_api, rich, coffee):
    code = _redeem(api, rich, coffee).json()["voucher"]["code"]
    assert api.get("/api/v1/vouchers/NOSUCHCODE22/").status_code == 404
    assert other_api.get(f"/api/v1/vouchers/{code}/").status_code == 404
    used = other_api.post(f"/api/v1/vouchers/{code}/use/", {"order_id": "A-1"})
    assert used.status_code == 404 and used.json()["code"] == "not_found"
    assert Voucher.objects.get().status == "active"


def test_use_without_order_id_is_a_field_error(api, rich, coffee):
    code = _redeem(api, rich, coffee).json()["voucher"]["code"]
    response = api.post(f"/api/v1/vouchers/{code}/use/", {})
    assert response.status_code == 400 and "order_id" in response.json()
    assert Voucher.objects.get().status == "active"
