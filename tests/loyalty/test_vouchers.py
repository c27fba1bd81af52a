from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from loyalty import ledger
from loyalty.audit import ledger_audit
from loyalty.models import Redemption, Transaction, Voucher
from loyalty.selectors import active_rewards, balance, customer_vouchers, voucher_by_code
from loyalty.signals import voucher_issued
from loyalty.vouchers import (
    VOUCHER_CODE_ALPHABET,
    RewardUnavailable,
    VoucherExpired,
    VoucherUsed,
    VoucherVoid,
    reward_redeem,
    voucher_use,
    voucher_void,
    vouchers_expire,
)
from tests.factories import CustomerFactory
from tests.loyalty.factories import RewardFactory, settled_points

pytestmark = pytest.mark.django_db


def test_redeem_spends_settled_points_and_issues_an_announced_voucher():
    anna = CustomerFactory()
    settled_points(anna, 150)
    reward = RewardFactory(points_cost=100, stock=3)
    announced = []

    def listener(sender, voucher, **kwargs):
        announced.append(voucher)

    voucher_issued.connect(listener)
    try:
        redemption = reward_redeem(customer=anna, reward=reward)
    finally:
        voucher_issued.disconnect(listener)
    voucher = redemption.voucher
    reward.refresh_from_db()
    assert (redemption.points_spent, balance(customer=anna).settled, reward.stock) == (100, 50, 2)
    assert announced == [voucher]
    assert len(voucher.code) == 12 and set(voucher.code) <= set(VOUCHER_CODE_ALPHABET)
    assert voucher.status == Voucher.Status.ACTIVE
    assert voucher.expires_at > timezone.now() + timedelta(days=89)
    assert redemption.transaction.kind == Transaction.Kind.REDEEM
    assert ledger_audit().clean


def test_redeem_refused_when_points_are_pending_and_nothing_changes():
    anna = CustomerFactory()
    ledger.points_award(
        customer=anna,
        points=500,
        kind="earn",
        memo="Held",
        settles_at=timezone.now() + timedelta(1),
    )
    reward = RewardFactory(stock=1)
    with pytest.raises(ledger.InsufficientPoints) as refused:
        reward_redeem(customer=anna, reward=reward)
    reward.refresh_from_db()
    assert refused.value.code == "insufficient_points"
    assert reward.stock == 1
    assert not Redemption.objects.exists() and not Voucher.objects.exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"is_active": False},
        {"stock": 0},
        {"active_from": timezone.now() + timedelta(days=1)},
        {"active_until": timezone.now() - timedelta(days=1)},
    ],
    ids=["inactive", "out-of-stock", "not-yet", "ended"],
)
def test_unavailable_reward_is_refused_and_nothing_is_spent(fields):
    anna = CustomerFactory()
    settled_points(anna, 500)
    reward = RewardFactory(**fields)
    assert reward not in active_rewards()
    with pytest.raises(RewardUnavailable) as refused:
        reward_redeem(customer=anna, reward=reward)
    assert refused.value.code == "reward_unavailable"
    assert balance(customer=anna).settled == 500


def test_redeem_with_an_idempotency_key_happens_once():
    anna = CustomerFactory()
    settled_points(anna, 500)
    reward = RewardFactory(stock=5)
    first = reward_redeem(customer=anna, reward=reward, idempotency_key="order-1")
    again = reward_redeem(customer=anna, reward=reward, idempotency_key="order-1")
    reward.refresh_from_db()
    assert again.pk == first.pk
    assert (balance(customer=anna).settled, reward.stock, Voucher.objects.count()) == (400, 4, 1)


def _voucher(**reward_fields):
    anna = CustomerFactory()
    settled_points(anna, 100)
    return reward_redeem(customer=anna, reward=RewardFactory(**reward_fields)).voucher


def test_voucher_is_used_once_and_a_second_use_is_refused():
    voucher = _voucher()
    used = voucher_use(code=voucher.code.lower(), order_id="B-1")
    assert (used.status, used.used_order_id) == (Voucher.Status.USED, "B-1")
    with pytest.raises(VoucherUsed) as refused:
        voucher_use(code=voucher.code, order_id="B-2")
    assert refused.value.code == "voucher_used"
    voucher.refresh_from_db()
    assert voucher.used_order_id == "B-1"


def test_expired_voucher_is_refused_and_marked_expired():
    voucher = _voucher()
    Voucher.objects.filter(pk=voucher.pk).update(expires_at=timezone.now())
    with pytest.raises(VoucherExpired) as refused:
        voucher_use(code=voucher.code, order_id="B-1")
    voucher.refresh_from_db()
    assert (refused.value.code, voucher.status) == ("voucher_expired", Voucher.Status.EXPIRED)


def test_unknown_voucher_is_not_found():
    assert voucher_by_code("NOPE") is None
    with pytest.raises(Voucher.DoesNotExist):
        voucher_use(code="NOPE", order_id="B-1")


def test_cancelled_voucher_refunds_points_and_stock_and_cannot_be_used():
    voucher = _voucher(stock=1)
    anna = voucher.customer
    with pytest.raises(ledger.LedgerError):
        voucher_void(voucher=voucher, reason=" ")
    voucher_void(voucher=voucher, reason="Issued in error")
    voucher.reward.refresh_from_db()
    assert (balance(customer=anna).settled, voucher.reward.stock) == (100, 1)
    with pytest.raises(VoucherVoid) as refused:
        voucher_use(code=voucher.code, order_id="B-1")
    assert refused.value.code == "voucher_void"
    with pytest.raises(VoucherVoid):
        voucher_void(voucher=voucher, reason="again")
    assert balance(customer=anna).settled == 100
    assert ledger_audit().clean


def test_expiry_sweep_marks_only_vouchers_past_their_date():
    old, fresh = _voucher(), _voucher()
    Voucher.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(days=1))
    assert vouchers_expire() == 1
    assert voucher_by_code(old.code).status == Voucher.Status.EXPIRED
    assert voucher_by_code(f" {fresh.code[:4]}-{fresh.code[4:]} ").status == "active"
    assert list(customer_vouchers(fresh.customer)) == [fresh]


def test_demo_seed_is_idempotent(settings):

    settings.DEBUG = True
    call_command("seed_demo")
    counts = (Transaction.objects.count(), Voucher.objects.count())
    call_command("seed_demo")
    assert (Transaction.objects.count(), Voucher.objects.count()) == counts
    assert ledger_audit().clean
