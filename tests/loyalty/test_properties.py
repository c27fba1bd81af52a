"""Random sequences of ledger operations against a plain model of what balances should be.

Redeeming and gifting go through their services (catalog rewards, vouchers, friends' gifts).
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers.services import connection_befriend
from loyalty import ledger
from loyalty.audit import ledger_audit
from loyalty.gifts import gift_to_friend
from loyalty.models import Account, Transaction, Voucher
from loyalty.selectors import balance
from loyalty.vouchers import reward_redeem
from tests.factories import CustomerFactory
from tests.loyalty.factories import RewardFactory

pytestmark = pytest.mark.django_db

who = st.integers(0, 2)
points = st.integers(1, 300)
key = st.one_of(st.none(), st.sampled_from(["k1", "k2", "k3"]))
operations = st.lists(
    st.one_of(
        st.tuples(st.just("earn"), who, points, key),
        st.tuples(st.just("hold"), who, points, key),
        st.tuples(st.just("settle"), st.just(0), st.just(0), st.none()),
        st.tuples(st.just("void"), who, st.just(0), st.none()),
        st.tuples(st.just("redeem"), who, points, key),
        st.tuples(st.just("gift"), who, points, st.none()),
        st.tuples(st.just("gift_reward"), who, points, st.none()),
        st.tuples(st.just("reverse"), who, points, st.none()),
    ),
    max_size=25,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(operations=operations)
def test_random_sequences_keep_every_ledger_rule(operations):
    customers = [CustomerFactory() for _ in range(3)]
    for a, b in [(0, 1), (1, 2), (2, 0)]:
        connection_befriend(customer=customers[a], other=customers[b])
    vouchers = Voucher.objects.count()
    run = CustomerFactory().referral_code  # keys are unique to this example
    settled, pending = [0, 0, 0], [0, 0, 0]
    held: list[tuple[int, Transaction]] = []
    earned: list[tuple[int, Transaction]] = []
    used_keys: set[str] = set()
    for op, i, amount, raw_key in operations:
        idem = f"{run}:{raw_key}" if raw_key else None
        # reward_redeem keeps its keys apart from plain postings' keys.
        full_key = f"redemption:{idem}" if idem and op == "redeem" else idem
        repeat = full_key in used_keys
        customer = customers[i]
        if op in ("earn", "hold"):
            settles_at = timezone.now() - timedelta(seconds=1) if op == "hold" else None
            txn = ledger.points_award(
                customer=customer, points=amount, kind="earn", memo=op,
                idempotency_key=idem, settles_at=settles_at,
            )  # fmt: skip
            used_keys.update(filter(None, [idem]))
            if not repeat:
                (pending if op == "hold" else settled)[i] += amount
                (held if op == "hold" else earned).append((i, txn))
        elif op == "settle":
            ledger.settle_due()
            for j, txn in held:
                txn.refresh_from_db()
                if txn.status == "posted":
                    settled[j] += txn.entries.get(amount__gt=0).amount
                    pending[j] -= txn.entries.get(amount__gt=0).amount
                    earned.append((j, txn))
            held = [(j, t) for j, t in held if t.status == "pending"]
        elif op == "void" and held:
            j, txn = held.pop(0)
            assert ledger.void(transaction=txn, reason="test")
            pending[j] -= txn.entries.get(amount__gt=0).amount
        elif op == "redeem":
            reward = RewardFactory(points_cost=amount)
            try:
                reward_redeem(customer=customer, reward=reward, idempotency_key=idem)
            except ledger.InsufficientPoints:
                assert settled[i] < amount
            else:
                used_keys.update(filter(None, [full_key]))
                if not repeat:
                    settled[i] -= amount
                    vouchers += 1
        elif op in ("gift", "gift_reward"):
            other = (i + 1) % 3
            what = (
                {"points": amount}
                if op == "gift"
                else {"reward": RewardFactory(points_cost=amount)}
            )
            try:
                gift_to_friend(sender=customer, recipient=customers[other], **what)
            except ledger.InsufficientPoints:
                assert settled[i] < amount
            else:
                settled[i] -= amount
                if op == "gift":
                    settled[other] += amount
                else:
                    vouchers += 1
        elif op == "reverse" and earned:
            j, txn = earned[-1]
            before = ledger.reversible_points(txn)
            reversal = ledger.reverse(transaction=txn, points=amount, reason="test")
            if reversal is not None:
                settled[j] -= min(settled[j], min(amount, before))

        for k, c in enumerate(customers):
            assert balance(customer=c).settled == settled[k] >= 0
            assert balance(customer=c).pending == pending[k] >= 0
    assert Voucher.objects.count() == vouchers
    report = ledger_audit()
    assert report.clean, report
    assert not Account.objects.filter(settled_balance__lt=0).exists()
    for raw in used_keys:
        assert Transaction.objects.filter(idempotency_key=raw).count() == 1
