from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from loyalty import ledger
from loyalty.audit import ledger_audit
from loyalty.earning import earn_rule
from loyalty.expiry import (
    add_months,
    expiry_reminder_send,
    expiry_reminders_queue,
    points_expire_due,
)
from loyalty.gifts import birthday_gifts_award
from loyalty.models import Account, EarnRule, ExpiryNotice, Gift, Transaction
from loyalty.selectors import balance
from tests.factories import CustomerFactory
from tests.loyalty.factories import settled_points

pytestmark = pytest.mark.django_db


def _idle_since(customer, moment):
    Account.objects.filter(customer=customer).update(last_activity_at=moment)


def test_add_months_keeps_the_day_or_takes_the_months_last():
    utc = UTC
    assert add_months(datetime(2026, 3, 31, tzinfo=utc), -1) == datetime(2026, 2, 28, tzinfo=utc)
    assert add_months(datetime(2026, 1, 15, tzinfo=utc), -12) == datetime(2025, 1, 15, tzinfo=utc)
    assert add_months(datetime(2025, 11, 30, tzinfo=utc), 3) == datetime(2026, 2, 28, tzinfo=utc)


def test_points_of_an_inactive_account_expire_once_as_a_posted_transaction():
    anna, ben = CustomerFactory(), CustomerFactory()
    settled_points(anna, 300)
    settled_points(ben, 200)
    now = timezone.now()
    _idle_since(anna, add_months(now, -12) - timedelta(days=1))
    _idle_since(ben, add_months(now, -11))
    assert points_expire_due(now=now) == 1
    expired = Transaction.objects.get(kind=Transaction.Kind.EXPIRE)
    assert expired.status == Transaction.Status.POSTED
    assert "12 months" in expired.memo
    assert (balance(customer=anna).settled, balance(customer=ben).settled) == (0, 200)
    assert points_expire_due(now=now) == 0
    assert ledger_audit().clean


def test_pending_points_do_not_expire_and_no_expiry_when_the_rule_says_never():
    anna = CustomerFactory()
    settled_points(anna, 100)
    ledger.points_award(
        customer=anna, points=50, kind="earn", memo="Held", settles_at=timezone.now()
    )
    _idle_since(anna, timezone.now() - timedelta(days=800))
    EarnRule.objects.filter(pk=earn_rule().pk).update(inactivity_expiry_months=0)
    assert points_expire_due() == 0
    EarnRule.objects.update(inactivity_expiry_months=12)
    assert points_expire_due() == 1
    assert (balance(customer=anna).settled, balance(customer=anna).pending) == (0, 50)


def test_reminder_goes_once_about_thirty_days_before_expiry(django_capture_on_commit_callbacks):
    anna, ben = CustomerFactory(), CustomerFactory()
    settled_points(anna, 300)
    settled_points(ben, 300)
    now = timezone.now()
    _idle_since(anna, add_months(now, -12) + timedelta(days=20))
    _idle_since(ben, add_months(now, -12) + timedelta(days=40))
    with django_capture_on_commit_callbacks(execute=True):
        assert expiry_reminders_queue(now=now) == 1
        assert expiry_reminders_queue(now=now) == 0
    notice = ExpiryNotice.objects.get()
    assert (notice.account.customer, notice.points) == (anna, 300)
    (message,) = mail.outbox
    assert message.to == [anna.user.email] and "300 points" in message.subject
    assert message.extra_headers["List-Unsubscribe"]


def test_a_stored_reminder_is_not_stored_again_once_the_customer_was_active():
    anna = CustomerFactory()
    settled_points(anna, 300)
    _idle_since(anna, add_months(timezone.now(), -12) + timedelta(days=10))
    expiry_reminders_queue()
    assert len(mail.outbox) == 1
    settled_points(anna, 1)
    assert not expiry_reminder_send(notice_id=ExpiryNotice.objects.get().pk)
    assert len(mail.outbox) == 1


def test_birthday_points_once_a_year(django_capture_on_commit_callbacks):
    today = date(2026, 6, 12)
    anna = CustomerFactory(birthday=date(1990, 6, 12))
    CustomerFactory(birthday=date(1990, 6, 13))
    with django_capture_on_commit_callbacks(execute=True):
        assert birthday_gifts_award(today=today) == 1
        assert birthday_gifts_award(today=today) == 0
    assert balance(customer=anna).settled == 100
    gift = Gift.objects.get()
    assert [message.to for message in mail.outbox] == [[anna.user.email]]
    assert gift.recipient == anna
    assert birthday_gifts_award(today=date(2027, 6, 12)) == 1
    assert balance(customer=anna).settled == 200


def test_leap_day_birthdays_are_celebrated_on_the_28th_in_other_years():
    leapling = CustomerFactory(birthday=date(2000, 2, 29))
    assert birthday_gifts_award(today=date(2027, 2, 28)) == 1
    assert birthday_gifts_award(today=date(2028, 2, 28)) == 0
    assert birthday_gifts_award(today=date(2028, 2, 29)) == 1
    assert balance(customer=leapling).settled == 200


def test_no_birthday_gift_when_the_rule_gives_none():
    CustomerFactory(birthday=timezone.localdate())
    EarnRule.objects.filter(pk=earn_rule().pk).update(birthday_gift=0)
    assert birthday_gifts_award() == 0
    assert not Transaction.objects.exists()
