from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from customers.conversions import conversion_refund
from loyalty import ledger
from loyalty.audit import ledger_audit
from loyalty.earning import (
    UnknownCurrency,
    conversion_earn,
    conversion_unwind,
    earn_rule,
    review_bonus_award,
)
from loyalty.models import Account, EarnRule, ExchangeRate, Transaction
from loyalty.selectors import balance
from loyalty.tiers import tier_standing
from tests.factories import CustomerFactory, purchase

pytestmark = pytest.mark.django_db


def _rule(**fields):
    earn_rule()
    EarnRule.objects.filter(pk=1).update(**fields)


def _refund(conversion, amount):
    refunded = conversion_refund(conversion=conversion, amount=Decimal(amount))
    conversion_unwind(conversion=refunded, refunded_amount=refunded.refunded_amount)
    return refunded


def test_purchase_earns_points_per_unit_posted_at_once_by_default():
    anna = CustomerFactory()
    earned = conversion_earn(conversion=purchase(anna, "120.50"))
    assert earned.status == Transaction.Status.POSTED
    assert earned.exchange_rate == 1
    assert balance(customer=anna).settled == 120
    assert "order A-" in earned.memo


def test_purchase_earns_once_however_often_it_is_reported():
    anna = CustomerFactory()
    conversion = purchase(anna)
    assert conversion_earn(conversion=conversion).pk == conversion_earn(conversion=conversion).pk
    assert balance(customer=anna).settled == 100


def test_held_points_wait_out_the_rules_hold_days():
    _rule(hold_days=30)
    anna = CustomerFactory()
    earned = conversion_earn(conversion=purchase(anna))
    assert earned.status == Transaction.Status.PENDING
    assert earned.settles_at > timezone.now() + timedelta(days=29)
    assert (balance(customer=anna).settled, balance(customer=anna).pending) == (0, 100)


def test_other_currency_earns_through_the_rate_recorded_on_the_transaction():
    ExchangeRate.objects.create(currency="USD", rate=Decimal("0.9"))
    anna = CustomerFactory()
    earned = conversion_earn(conversion=purchase(anna, "100.00", "usd"))
    ExchangeRate.objects.filter(currency="USD").update(rate=Decimal("2"))
    earned.refresh_from_db()
    assert earned.exchange_rate == Decimal("0.9")
    assert balance(customer=anna).settled == 90


def test_unknown_currency_is_refused_before_anything_is_written():
    anna = CustomerFactory()
    with pytest.raises(UnknownCurrency, match="No exchange rate from JPY to EUR"):
        conversion_earn(conversion=purchase(anna, "1000", "JPY"))
    assert not Transaction.objects.exists()
    assert issubclass(UnknownCurrency, ledger.LedgerError)


def test_zero_points_return_none():
    _rule(points_per_unit=Decimal("0.001"))
    assert conversion_earn(conversion=purchase(CustomerFactory(), "10.00")) is None
    assert not Transaction.objects.exists()


def test_tier_multiplier_raises_what_a_purchase_earns():
    anna = CustomerFactory()
    conversion_earn(conversion=purchase(anna, "1000.00"))  # Bronze: 1000, now Silver
    earned = conversion_earn(conversion=purchase(anna, "100.00"))
    assert earned.entries.get(amount__gt=0).amount == 125
    assert "Silver" in earned.memo


def test_full_refund_of_held_points_voids_them():
    _rule(hold_days=14)
    anna = CustomerFactory()
    conversion = purchase(anna)
    earned = conversion_earn(conversion=conversion)
    _refund(conversion, "100.00")
    earned.refresh_from_db()
    assert earned.status == Transaction.Status.VOIDED
    assert balance(customer=anna).pending == 0
    assert tier_standing(customer=anna).points == 0
    assert ledger_audit().clean


def test_partial_refund_of_held_points_holds_the_rest_until_the_same_day():
    _rule(hold_days=14)
    anna = CustomerFactory()
    conversion = purchase(anna, "200.00")
    earned = conversion_earn(conversion=conversion)
    _refund(conversion, "50.00")
    kept = Transaction.objects.get(cause_ref=str(conversion.public_id), status="pending")
    assert kept.entries.get(amount__gt=0).amount == 150
    assert kept.settles_at == earned.settles_at
    _refund(conversion, "150.00")
    kept.refresh_from_db()
    assert kept.status == Transaction.Status.VOIDED
    assert balance(customer=anna).pending == 0
    assert ledger_audit().clean


def test_partial_refunds_of_posted_points_reverse_the_granted_share_each_step_once():
    anna = CustomerFactory()
    conversion = purchase(anna, "200.00")
    conversion_earn(conversion=conversion)
    _rule(points_per_unit=Decimal(5))  # today's rule must not change what is taken back
    refunded = _refund(conversion, "50.00")
    conversion_unwind(conversion=refunded, refunded_amount=refunded.refunded_amount)
    assert balance(customer=anna).settled == 150
    _refund(conversion, "150.00")
    assert balance(customer=anna).settled == 0
    assert tier_standing(customer=anna).points == 0
    assert Transaction.objects.filter(kind="reversal").count() == 2
    assert ledger_audit().clean


def test_refund_after_spending_writes_off_what_cannot_be_taken_back():
    anna = CustomerFactory()
    conversion = purchase(anna)
    conversion_earn(conversion=conversion)
    ledger.points_spend(customer=anna, points=80, kind="redeem", memo="x", sink="redemptions")
    _refund(conversion, "100.00")
    write_off = Account.objects.get(system_code="write_off")
    assert balance(customer=anna).settled == 0
    assert write_off.entries.get().amount == -80
    assert tier_standing(customer=anna).points == 0


def test_unwind_without_earned_points_does_nothing_and_bad_amounts_are_refused():
    anna = CustomerFactory()
    conversion = purchase(anna)
    conversion_unwind(conversion=conversion, refunded_amount=Decimal("10"))
    assert not Transaction.objects.exists()
    for bad in (Decimal(0), Decimal("100.01")):
        with pytest.raises(ledger.LedgerError):
            conversion_unwind(conversion=conversion, refunded_amount=bad)


def test_review_bonus_once_per_review_of_each_subject():
    anna = CustomerFactory()
    first = review_bonus_award(customer=anna, review_ref="review-1")
    assert review_bonus_award(customer=anna, review_ref="review-1").pk == first.pk
    assert review_bonus_award(customer=anna, review_ref="review-2") is not None
    assert balance(customer=anna).settled == 100


def test_no_review_bonus_when_the_rule_gives_none():
    _rule(first_review_bonus=0)
    assert review_bonus_award(customer=CustomerFactory(), review_ref="r") is None
    assert not Transaction.objects.exists()


def test_transaction_unwind_refuses_a_share_outside_zero_to_one():
    anna = CustomerFactory()
    earned = ledger.points_award(customer=anna, points=10, kind="earn", memo="x")
    for share in (0, 2, -1):
        with pytest.raises(ledger.LedgerError):
            ledger.transaction_unwind(transaction=earned, reason="x", share=share)
    assert balance(customer=anna).settled == 10
