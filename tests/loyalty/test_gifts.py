from datetime import date

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from customers.models import Customer
from customers.services import connection_befriend
from loyalty import ledger, tasks
from loyalty.audit import ledger_audit
from loyalty.gifts import (
    GiftError,
    gift_campaign_create,
    gift_campaign_recipients,
    gift_campaign_run,
    gift_email_send,
    gift_to_friend,
)
from loyalty.models import Gift, GiftCampaign, Tier, Transaction, Voucher
from loyalty.selectors import balance
from loyalty.vouchers import RewardUnavailable
from tests.factories import CustomerFactory
from tests.loyalty.factories import RewardFactory, settled_points

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch):
    """Task ids queued with .delay, instead of a broker."""
    sent = []
    task = tasks.ledger_gift_campaign_run
    monkeypatch.setattr(task, "delay", lambda pk: sent.append((task.name, pk)))
    return sent


@pytest.fixture
def friends():
    anna, ben = CustomerFactory(), CustomerFactory()
    connection_befriend(customer=anna, other=ben)
    settled_points(anna, 300)
    return anna, ben


def test_points_gift_to_a_friend_moves_points_and_emails_them(
    friends, queued, django_capture_on_commit_callbacks
):
    anna, ben = friends
    with django_capture_on_commit_callbacks(execute=True):
        gift = gift_to_friend(sender=anna, recipient=ben, points=120, note="Enjoy!")
    assert (balance(customer=anna).settled, balance(customer=ben).settled) == (180, 120)
    assert gift.transaction.kind == Transaction.Kind.GIFT
    (message,) = mail.outbox
    assert message.to == [ben.user.email]
    assert anna.name in message.subject
    assert "Enjoy!" in message.body and "120 points" in message.body
    assert "Enjoy!" in message.alternatives[0][0]


def test_reward_gift_spends_the_senders_points_and_gives_the_friend_the_voucher(friends, queued):
    anna, ben = friends
    reward = RewardFactory(points_cost=250)
    gift = gift_to_friend(sender=anna, recipient=ben, reward=reward, note="For you")
    assert gift.voucher.customer == ben
    assert (balance(customer=anna).settled, balance(customer=ben).settled) == (50, 0)
    assert gift_email_send(gift_id=gift.pk)
    assert gift.voucher.code in mail.outbox[-1].body


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"points": 301}, ledger.InsufficientPoints),
        ({"points": None}, GiftError),
        ({"points": 10, "reward": True}, GiftError),
        ({"reward": True, "reward_cost": 400}, ledger.InsufficientPoints),
    ],
    ids=["too-many-points", "nothing", "both", "unaffordable-reward"],
)
def test_bad_gifts_are_refused_and_change_nothing(friends, queued, kwargs, error):
    anna, ben = friends
    if kwargs.pop("reward", None):
        kwargs["reward"] = RewardFactory(points_cost=kwargs.pop("reward_cost", 100))
    with pytest.raises(error):
        gift_to_friend(sender=anna, recipient=ben, **kwargs)
    assert balance(customer=anna).settled == 300
    assert not Gift.objects.exists() and not Voucher.objects.exists() and not queued


def test_gift_to_someone_not_on_the_friends_list_is_refused(friends, queued):
    anna, _ben = friends
    with pytest.raises(GiftError, match="friends list"):
        gift_to_friend(sender=anna, recipient=CustomerFactory(), points=10)
    assert balance(customer=anna).settled == 300


def test_gift_with_an_idempotency_key_is_given_once(friends, queued):
    anna, ben = friends
    first = gift_to_friend(sender=anna, recipient=ben, points=100, idempotency_key="g1")
    again = gift_to_friend(sender=anna, recipient=ben, points=100, idempotency_key="g1")
    assert again.pk == first.pk
    assert balance(customer=ben).settled == 100


def _campaign(staff, **fields):
    fields.setdefault("name", "Thank you")
    return gift_campaign_create(actor=staff, **fields)


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user(email="staff@example.com", is_staff=True)


def test_campaign_is_queued_after_commit_and_gives_each_customer_once(
    staff, queued, django_capture_on_commit_callbacks
):
    ben = CustomerFactory()
    with django_capture_on_commit_callbacks(execute=True):
        campaign = _campaign(staff, points=75, segment="one_customer", customer=ben, note="Hi")
    assert ("loyalty.tasks.ledger_gift_campaign_run", campaign.pk) in queued
    done = gift_campaign_run(campaign_id=campaign.pk)
    assert (done.status, done.total, done.done) == ("done", 1, 1)
    GiftCampaign.objects.filter(pk=campaign.pk).update(status="running")  # a re-delivered task
    again = gift_campaign_run(campaign_id=campaign.pk)
    assert (again.total, again.done) == (1, 1)
    assert balance(customer=ben).settled == 75
    txn = Gift.objects.get().transaction
    assert (txn.memo, txn.created_by) == ("Hi", staff)
    assert ledger_audit().clean


def test_birthday_segment_gives_a_reward_voucher_to_this_months_birthdays(staff, queued):
    month = timezone.localdate().month
    born_now = CustomerFactory(birthday=date(1990, month, 1))
    CustomerFactory(birthday=date(1990, month % 12 + 1, 1))
    CustomerFactory()
    reward = RewardFactory()
    campaign = _campaign(staff, reward=reward, segment="birthday_month")
    assert gift_campaign_run(campaign_id=campaign.pk).done == 1
    assert Voucher.objects.get().customer == born_now
    assert balance(customer=born_now).settled == 0


def test_campaign_stops_when_the_reward_runs_out(staff, queued):
    for _ in range(3):
        CustomerFactory(birthday=timezone.localdate())
    campaign = _campaign(staff, reward=RewardFactory(stock=2), segment="birthday_month")
    stopped = gift_campaign_run(campaign_id=campaign.pk)
    assert (stopped.status, stopped.total, stopped.done) == ("stopped", 3, 2)
    assert "out of stock" in stopped.stopped_reason
    assert issubclass(RewardUnavailable, ledger.LedgerError)


def test_referrer_and_tier_segments(staff, queued):
    anna, ben, _carla = CustomerFactory(), CustomerFactory(), CustomerFactory()
    for _ in range(2):
        ledger.points_award(
            customer=anna, points=500, kind="referral_reward", memo="r", source="referral_expense"
        )
    ledger.points_award(customer=ben, points=1000, kind="earn", memo="Purchases")
    referrers = _campaign(staff, points=5, segment="referrers", min_referrals=2)
    assert list(gift_campaign_recipients(referrers)) == [anna]
    silver = _campaign(staff, points=5, segment="tier", tier=Tier.objects.get(name="Silver"))
    assert list(gift_campaign_recipients(silver)) == [ben]


@pytest.mark.parametrize(
    "fields",
    [
        {"segment": "one_customer", "points": 5},
        {"segment": "tier", "points": 5},
        {"segment": "referrers", "points": 5},
        {"segment": "birthday_month"},
    ],
    ids=["no-customer", "no-tier", "no-minimum", "no-gift"],
)
def test_incomplete_campaigns_are_refused(staff, queued, fields):
    with pytest.raises(ValidationError):
        _campaign(staff, **fields)
    assert not GiftCampaign.objects.exists() and not queued


def test_no_gift_email_to_someone_who_turned_activity_emails_off(friends, queued):
    anna, ben = friends
    Customer.objects.filter(pk=ben.pk).update(notification_emails=False)
    gift = gift_to_friend(sender=anna, recipient=ben, points=10)
    assert not gift_email_send(gift_id=gift.pk)
    assert not mail.outbox
