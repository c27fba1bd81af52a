from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from loyalty import ledger
from loyalty.audit import ledger_audit
from loyalty.models import Account, Entry, Transaction
from loyalty.selectors import balance, balance_with_next_settlement, customer_history
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
EARN = Transaction.Kind.EARN


def _award(customer, points, **kwargs):
    return ledger.points_award(customer=customer, points=points, kind=EARN, memo="Test", **kwargs)


def test_award_posts_balanced_entries_and_updates_the_cached_balance():
    anna = CustomerFactory()
    posted = _award(anna, 120)
    assert posted.status == Transaction.Status.POSTED and posted.posted_at
    assert sorted(posted.entries.values_list("amount", flat=True)) == [-120, 120]
    assert balance(customer=anna).settled == 120
    assert ledger_audit().clean


def test_hold_is_pending_until_settled_then_counts_as_settled():
    anna = CustomerFactory()
    held = _award(anna, 500, settles_at=timezone.now() + timedelta(days=14))
    assert (held.status, balance(customer=anna).pending, balance(customer=anna).settled) == (
        Transaction.Status.PENDING,
        500,
        0,
    )
    assert balance_with_next_settlement(customer=anna).next_settles_at == held.settles_at
    assert ledger.settle_due() == 0
    assert ledger.settle_due(as_of=held.settles_at + timedelta(seconds=1)) == 1
    held.refresh_from_db()
    assert held.status == Transaction.Status.POSTED
    assert (balance(customer=anna).settled, balance(customer=anna).pending) == (500, 0)
    assert ledger.settle_due(as_of=held.settles_at + timedelta(days=1)) == 0
    assert ledger_audit().clean


def test_pending_points_cannot_be_spent():
    anna = CustomerFactory()
    _award(anna, 500, settles_at=timezone.now() + timedelta(days=1))
    with pytest.raises(ledger.InsufficientPoints):
        ledger.points_spend(customer=anna, points=1, kind="redeem", memo="x", sink="redemptions")
    assert Transaction.objects.count() == 1


def test_spend_beyond_balance_changes_nothing():
    anna = CustomerFactory()
    _award(anna, 100)
    with pytest.raises(ledger.InsufficientPoints):
        ledger.points_spend(customer=anna, points=101, kind="redeem", memo="x", sink="redemptions")
    assert balance(customer=anna).settled == 100
    assert Transaction.objects.count() == 1 and Entry.objects.count() == 2


def test_idempotency_key_posts_once():
    anna = CustomerFactory()
    first = _award(anna, 50, idempotency_key="conversion:1:earn")
    again = _award(anna, 50, idempotency_key="conversion:1:earn")
    assert again.pk == first.pk
    assert balance(customer=anna).settled == 50
    assert Transaction.objects.count() == 1


@pytest.mark.parametrize(
    "entries",
    [[("a", 10), ("s", -9)], [("a", 10)], [("a", 0), ("s", 0)], [("a", 1.5), ("s", -1.5)]],
    ids=["unbalanced", "one-sided", "zero", "fractional"],
)
def test_malformed_transactions_are_refused(entries):
    anna = CustomerFactory()
    accounts = {"a": ledger.customer_account(anna), "s": ledger.system_account("points_issued")}
    with pytest.raises(ledger.LedgerError):
        ledger.post(kind=EARN, memo="x", entries=[(accounts[k], v) for k, v in entries])
    assert not Transaction.objects.exists()


def test_void_cancels_pending_once_and_never_a_settled_one():
    anna = CustomerFactory()
    held = _award(anna, 300, settles_at=timezone.now() - timedelta(seconds=1))
    assert ledger.void(transaction=held, reason="refund") is True
    assert ledger.void(transaction=held, reason="refund") is False
    assert balance(customer=anna).pending == 0
    assert ledger.settle_due() == 0
    settled = _award(anna, 100, settles_at=timezone.now() - timedelta(seconds=1))
    ledger.settle_due()
    assert ledger.void(transaction=settled, reason="late") is False
    assert balance(customer=anna).settled == 100
    assert ledger_audit().clean


def test_reverse_takes_back_and_writes_off_what_the_customer_no_longer_has():
    anna, ben = CustomerFactory(), CustomerFactory()
    earned = _award(anna, 100)
    ledger.points_transfer(sender=anna, recipient=ben, points=70, kind="gift", memo="Gift")
    reversal = ledger.reverse(transaction=earned, reason="order refunded")
    assert balance(customer=anna).settled == 0
    amounts = dict(reversal.entries.values_list("account__system_code", "amount"))
    assert amounts == {None: -30, "points_issued": 100, "write_off": -70}
    assert ledger.reverse(transaction=earned, reason="again") is None
    assert ledger_audit().clean


def test_partial_reversals_add_up_to_the_original_at_most():
    anna = CustomerFactory()
    earned = _award(anna, 100)
    ledger.reverse(transaction=earned, points=30, reason="partial refund")
    ledger.reverse(transaction=earned, points=50, reason="partial refund")
    assert ledger.reversible_points(earned) == 20
    ledger.reverse(transaction=earned, points=500, reason="rest")
    assert balance(customer=anna).settled == 0
    assert ledger.reversible_points(earned) == 0


def test_reversing_a_spend_gives_the_points_back():
    anna = CustomerFactory()
    _award(anna, 100)
    spent = ledger.points_spend(
        customer=anna, points=80, kind="redeem", memo="Voucher", sink="redemptions"
    )
    ledger.reverse(transaction=spent, reason="voucher voided")
    assert balance(customer=anna).settled == 100


def test_database_refuses_a_negative_customer_balance():
    anna = CustomerFactory()
    account = ledger.customer_account(anna)
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=account.pk).update(settled_balance=-1)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
@pytest.mark.parametrize("operation", ["update", "delete"])
def test_postgresql_refuses_to_change_or_delete_entries(operation):
    anna = CustomerFactory()
    _award(anna, 10)
    entries = Entry.objects.all()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        entries.update(amount=99) if operation == "update" else entries.delete()


def test_history_is_newest_first_from_the_customer_side():
    anna = CustomerFactory()
    _award(anna, 100)
    ledger.points_spend(customer=anna, points=40, kind="redeem", memo="Voucher", sink="redemptions")
    assert [e.amount for e in customer_history(customer=anna)] == [-40, 100]


def test_audit_command_fails_on_a_tampered_balance(capsys):
    anna = CustomerFactory()
    _award(anna, 100)
    call_command("audit_ledger")
    Account.objects.filter(customer=anna).update(settled_balance=99)
    with pytest.raises(SystemExit) as exit_info:
        call_command("audit_ledger")
    assert exit_info.value.code == 1
    assert "settled 99 vs 100" in capsys.readouterr().err


def test_settle_rewards_command_uses_as_of(capsys):
    anna = CustomerFactory()
    due = timezone.now() + timedelta(days=14)
    _award(anna, 500, settles_at=due)
    call_command("settle_rewards", "--as-of", (due - timedelta(days=1)).isoformat())
    assert "Settled 0" in capsys.readouterr().out
    call_command("settle_rewards", "--as-of", (due + timedelta(days=1)).isoformat())
    assert "Settled 1" in capsys.readouterr().out
    assert balance(customer=anna).settled == 500
