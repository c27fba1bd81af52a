"""Real commits and real threads: what rolled-back tests would hide."""

from datetime import timedelta

import pytest
from django.utils import timezone

from loyalty import ledger
from loyalty.audit import ledger_audit
from loyalty.models import Redemption, Transaction, Voucher
from loyalty.selectors import Balance, balance
from loyalty.vouchers import RewardUnavailable, VoucherUsed, reward_redeem, voucher_use
from tests.factories import CustomerFactory
from tests.loyalty.factories import RewardFactory
from tests.loyalty.helpers import run_in_threads

pytestmark = pytest.mark.django_db(transaction=True)


def test_twenty_concurrent_spends_from_a_balance_for_five():
    anna = CustomerFactory()
    ledger.points_award(customer=anna, points=500, kind="earn", memo="Purchase")

    def spend(i):
        return ledger.points_spend(
            customer=anna, points=100, kind="redeem", memo=f"Voucher {i}", sink="redemptions"
        )

    results = run_in_threads(20, spend)
    succeeded = [r for r in results if isinstance(r, Transaction)]
    refused = [r for r in results if isinstance(r, ledger.InsufficientPoints)]
    assert (len(succeeded), len(refused)) == (5, 15), results
    assert balance(customer=anna).settled == 0
    assert ledger_audit().clean


def test_racing_callers_with_one_idempotency_key_post_once():
    anna = CustomerFactory()
    results = run_in_threads(
        10,
        lambda i: ledger.points_award(
            customer=anna, points=250, kind="welcome_gift", memo="Welcome", idempotency_key="k-1"
        ),
    )
    assert all(isinstance(r, Transaction) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert balance(customer=anna).settled == 250
    assert Transaction.objects.count() == 1


def test_concurrent_settlements_settle_each_transaction_once():
    customers = [CustomerFactory() for _ in range(5)]
    past = timezone.now() - timedelta(seconds=1)
    for i in range(200):
        ledger.points_award(
            customer=customers[i % 5], points=10, kind="earn", memo="Held", settles_at=past
        )
    results = run_in_threads(4, lambda i: ledger.settle_due(batch_size=25))
    assert sum(results) == 200, results
    assert all(balance(customer=c) == Balance(settled=400, pending=0) for c in customers)
    assert ledger_audit().clean


def test_settle_and_void_racing_end_in_exactly_one_outcome():
    anna = CustomerFactory()
    past = timezone.now() - timedelta(seconds=1)
    held = [
        ledger.points_award(customer=anna, points=10, kind="earn", memo="Held", settles_at=past)
        for _ in range(50)
    ]

    def work(i):
        if i == 0:
            return ledger.settle_due(batch_size=5)
        return sum(ledger.void(transaction=t, reason="refund") for t in held[i - 1 :: 3])

    results = run_in_threads(4, work)
    assert all(isinstance(r, int) for r in results), results
    statuses = list(Transaction.objects.values_list("status", flat=True))
    assert statuses.count("posted") + statuses.count("voided") == 50
    assert statuses.count("posted") == results[0]
    assert balance(customer=anna).settled == 10 * results[0]
    assert ledger_audit().clean


def test_twenty_concurrent_redemptions_from_a_balance_for_five():
    anna = CustomerFactory()
    ledger.points_award(customer=anna, points=500, kind="earn", memo="Purchase")
    reward = RewardFactory(points_cost=100, stock=50)

    results = run_in_threads(20, lambda i: reward_redeem(customer=anna, reward=reward))
    succeeded = [r for r in results if isinstance(r, Redemption)]
    refused = [r for r in results if isinstance(r, ledger.InsufficientPoints)]
    assert (len(succeeded), len(refused)) == (5, 15), results
    reward.refresh_from_db()
    assert (balance(customer=anna).settled, reward.stock, Voucher.objects.count()) == (0, 45, 5)
    assert ledger_audit().clean


def test_stock_is_never_oversold_under_concurrent_redemptions():
    customers = [CustomerFactory() for _ in range(8)]
    for customer in customers:
        ledger.points_award(customer=customer, points=100, kind="earn", memo="Purchase")
    reward = RewardFactory(points_cost=100, stock=3)
    results = run_in_threads(8, lambda i: reward_redeem(customer=customers[i], reward=reward))
    assert sum(isinstance(r, Redemption) for r in results) == 3, results
    assert sum(isinstance(r, RewardUnavailable) for r in results) == 5, results
    assert sum(balance(customer=c).settled for c in customers) == 500
    assert ledger_audit().clean


def test_fifty_concurrent_uses_of_one_voucher_succeed_once():
    anna = CustomerFactory()
    ledger.points_award(customer=anna, points=100, kind="earn", memo="Purchase")
    voucher = reward_redeem(customer=anna, reward=RewardFactory()).voucher
    results = run_in_threads(50, lambda i: voucher_use(code=voucher.code, order_id=f"B-{i}"))
    used = [r for r in results if isinstance(r, Voucher)]
    assert len(used) == 1, results
    assert all(isinstance(r, VoucherUsed) for r in results if r not in used), results
    voucher.refresh_from_db()
    assert voucher.used_order_id == used[0].used_order_id
