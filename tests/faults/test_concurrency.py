"""Fifty at once through the partner API or the ledger, with real threads and real
commits: one effect where one is due, and never a balance below zero.

On SQLite the IMMEDIATE transactions serialise the writers; the outcome must be the same.
"""

from __future__ import annotations

import pytest

from customers.models import Conversion
from customers.services import connection_befriend
from loyalty.audit import ledger_audit
from loyalty.gifts import gift_to_friend
from loyalty.ledger import InsufficientPoints
from loyalty.models import Gift, Transaction, Voucher
from loyalty.selectors import balance
from tests.factories import CustomerFactory
from tests.loyalty.factories import RewardFactory, settled_points
from tests.loyalty.helpers import run_in_threads
from tests.support import PartnerClient

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

RACERS = 50


def test_fifty_reports_of_one_order_under_different_keys_record_it_once(api):
    created = api.post("/api/v1/customers/", {"external_id": "c-1", "email": "anna@example.com"})
    assert created.status_code == 201, created.content
    order = {"customer": created.json()["id"], "order_id": "A-1001", "amount": "120.00",
             "currency": "EUR"}  # fmt: skip

    def report(i):
        # A client per thread, as each retrying partner process would have.
        response = PartnerClient(api.partner).post(
            "/api/v1/conversions/", order, idempotency_key=f"retry-{i}"
        )
        return response.status_code, response.json()

    results = run_in_threads(RACERS, report)
    statuses = sorted(status for status, _body in results)
    assert statuses == [201] + [409] * (RACERS - 1), results
    assert {body["code"] for status, body in results if status == 409} == {"duplicate_order"}
    assert Conversion.objects.count() == 1
    assert Transaction.objects.filter(kind=Transaction.Kind.EARN).count() == 1
    assert ledger_audit().clean


def test_fifty_gifts_draining_one_balance_never_take_it_below_zero():
    anna = CustomerFactory()
    friends = [CustomerFactory() for _ in range(5)]
    for friend in friends:
        connection_befriend(customer=anna, other=friend)
    settled_points(anna, 500)

    def give(i):
        return gift_to_friend(sender=anna, recipient=friends[i % 5], points=30)

    results = run_in_threads(RACERS, give)
    given = [r for r in results if isinstance(r, Gift)]
    refused = [r for r in results if isinstance(r, InsufficientPoints)]
    # 500 covers 16 gifts of 30; every other one is refused and changes nothing.
    assert (len(given), len(refused)) == (16, RACERS - 16), results
    assert balance(customer=anna).settled == 20
    assert sum(balance(customer=friend).settled for friend in friends) == 480
    assert Gift.objects.count() == 16
    assert ledger_audit().clean


def test_fifty_uses_of_one_voucher_through_the_api_use_it_once(api):
    anna = api.post("/api/v1/customers/", {"external_id": "a-1", "email": "anna@example.com"})
    customer = anna.json()["id"]
    api.post(f"/api/v1/customers/{customer}/points/", {"points": 100, "reason": "Welcome"})
    reward = RewardFactory(points_cost=100)
    redeemed = api.post(
        "/api/v1/redemptions/", {"customer": customer, "reward": str(reward.public_id)}
    )
    assert redeemed.status_code == 201, redeemed.content
    code = redeemed.json()["voucher"]["code"]

    def use(i):
        response = PartnerClient(api.partner).post(
            f"/api/v1/vouchers/{code}/use/", {"order_id": f"B-{i}"}
        )
        return response.status_code, response.json()

    results = run_in_threads(RACERS, use)
    statuses = sorted(status for status, _body in results)
    assert statuses == [200] + [409] * (RACERS - 1), results
    assert {body["code"] for status, body in results if status == 409} == {"voucher_used"}
    (used,) = [body for status, body in results if status == 200]
    assert used["status"] == "used"
    assert Voucher.objects.get().status == Voucher.Status.USED
