"""Emails about points: a settled referral reward, a redeemed voucher, a friend's welcome gift."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from customers.privacy import consent_set
from customers.services import connection_befriend
from loyalty import ledger
from loyalty.gifts import gift_to_friend
from loyalty.models import SettledBatchEmails, Transaction
from loyalty.notifications import settled_batch_emails_sweep, settled_batch_emails_write
from loyalty.vouchers import reward_redeem
from referrals.services import referral_attribute, referral_conversion_qualify
from tests.factories import CustomerFactory, purchase
from tests.loyalty.factories import RewardFactory, settled_points

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tasks_inline")]


def _held(customer, kind: str, points: int = 500) -> Transaction:
    return ledger.points_award(
        customer=customer,
        points=points,
        kind=kind,
        memo="Held",
        settles_at=timezone.now() - timedelta(seconds=1),
    )


def test_a_settled_referral_reward_is_announced_with_an_unsubscribe_link(
    django_capture_on_commit_callbacks,
):
    anna, ben = CustomerFactory(), CustomerFactory()
    _held(anna, Transaction.Kind.REFERRAL_REWARD)
    _held(ben, Transaction.Kind.EARN)
    with django_capture_on_commit_callbacks(execute=True):
        ledger.settle_due()
    (message,) = mail.outbox
    assert message.to == [anna.user.email]
    assert "500 points are now yours" in message.subject
    assert "List-Unsubscribe" in message.extra_headers


def test_a_settled_batch_is_emailed_once_however_often_its_task_runs():
    anna, ben = CustomerFactory(), CustomerFactory()
    _held(anna, Transaction.Kind.REFERRAL_REWARD)
    _held(ben, Transaction.Kind.WELCOME_GIFT, 250)
    ledger.settle_due()  # its after-commit message is never sent here: as if the broker lost it
    (promise,) = SettledBatchEmails.objects.all()
    assert promise.emailed_at is None and mail.outbox == []
    assert settled_batch_emails_write(batch=promise.batch) == 2
    assert settled_batch_emails_write(batch=promise.batch) == 0
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        [anna.user.email, ben.user.email]
    )


def test_the_sweeper_hands_on_a_batch_whose_message_was_lost_and_forgets_old_ones(
    django_capture_on_commit_callbacks,
):
    anna = CustomerFactory()
    _held(anna, Transaction.Kind.REFERRAL_REWARD)
    ledger.settle_due()
    now = timezone.now()
    assert settled_batch_emails_sweep(now=now) == 0  # too fresh: its own message may come
    with django_capture_on_commit_callbacks(execute=True):
        assert settled_batch_emails_sweep(now=now + timedelta(minutes=1)) == 1
    assert [message.to for message in mail.outbox] == [[anna.user.email]]
    assert settled_batch_emails_sweep(now=now + timedelta(minutes=2)) == 0
    assert settled_batch_emails_sweep(now=now + timedelta(days=8)) == 0
    assert not SettledBatchEmails.objects.exists()


def test_no_settlement_email_for_a_customer_who_turned_activity_emails_off(
    django_capture_on_commit_callbacks,
):
    anna = CustomerFactory()
    consent_set(customer=anna, topic="notifications", granted=False, source="profile")
    _held(anna, Transaction.Kind.REFERRAL_REWARD)
    with django_capture_on_commit_callbacks(execute=True):
        ledger.settle_due()
    assert mail.outbox == []


def test_a_redeemed_voucher_is_emailed_with_its_code(django_capture_on_commit_callbacks):
    anna = CustomerFactory()
    settled_points(anna, 300)
    with django_capture_on_commit_callbacks(execute=True):
        redemption = reward_redeem(customer=anna, reward=RewardFactory(points_cost=100))
    (message,) = mail.outbox
    assert redemption.voucher.code in message.body
    assert redemption.voucher.code in message.alternatives[0][0]


def test_a_gifted_reward_sends_the_gift_email_not_a_voucher_email(
    django_capture_on_commit_callbacks,
):
    anna, ben = CustomerFactory(), CustomerFactory(first_name="Ben")
    connection_befriend(customer=anna, other=ben)
    settled_points(anna, 300)
    with django_capture_on_commit_callbacks(execute=True):
        gift_to_friend(sender=anna, recipient=ben, reward=RewardFactory(points_cost=100))
    assert [message.to for message in mail.outbox] == [[ben.user.email]]


def test_a_referred_friend_hears_of_their_welcome_gift(django_capture_on_commit_callbacks):
    anna, ben = CustomerFactory(first_name="Anna"), CustomerFactory()
    referral_attribute(customer=ben, code=anna.referral_code, source="link")
    with django_capture_on_commit_callbacks(execute=True):
        referral_conversion_qualify(conversion=purchase(ben))
    (message,) = mail.outbox
    assert message.to == [ben.user.email]
    assert "thanks to Anna" in message.subject
    assert "250 points" in message.body
