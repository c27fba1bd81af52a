"""The loyalty app's notices, each made by its real event: settlement, expiry, gifts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import Notice
from customers.services import connection_befriend
from loyalty import ledger
from loyalty.expiry import add_months, expiry_reminders_queue
from loyalty.gifts import birthday_gifts_award, gift_campaign_run, gift_to_friend
from loyalty.models import Account, GiftCampaign, Transaction
from loyalty.signals import transactions_settled
from tests.factories import CustomerFactory
from tests.loyalty.factories import RewardFactory, settled_points

pytestmark = pytest.mark.django_db


def _held(customer, kind: str, points: int = 500) -> Transaction:
    return ledger.points_award(
        customer=customer,
        points=points,
        kind=kind,
        memo="Held",
        settles_at=timezone.now() - timedelta(seconds=1),
    )


def test_a_settled_referral_reward_and_welcome_gift_each_make_a_notice():
    anna, nora, ben = CustomerFactory(), CustomerFactory(), CustomerFactory()
    reward = _held(anna, Transaction.Kind.REFERRAL_REWARD, 500)
    _held(nora, Transaction.Kind.WELCOME_GIFT, 250)
    _held(ben, Transaction.Kind.EARN)  # ordinary purchase points settle quietly
    assert ledger.settle_due() == 3
    notice = anna.notices.get()
    assert notice.kind == "reward_settled"
    assert notice.params == {"points": 500, "reward": Transaction.Kind.REFERRAL_REWARD}
    assert notice.url == reverse("loyalty:history")
    assert notice.text == "Your reward of 500 points for referring a friend has settled."
    assert nora.notices.get().text.startswith("Your welcome gift of 250 points has settled")
    assert not ben.notices.exists()
    # The settlement announced again (a retried batch) adds nothing.
    reward.refresh_from_db()
    transactions_settled.send(sender=Transaction, batch=reward.settlement_batch)
    assert anna.notices.count() == 1


def test_an_expiry_reminder_makes_one_notice_with_the_date():
    anna = CustomerFactory()
    settled_points(anna, 300)
    now = timezone.now()
    Account.objects.filter(customer=anna).update(
        last_activity_at=add_months(now, -12) + timedelta(days=20)
    )
    assert expiry_reminders_queue(now=now) == 1
    assert expiry_reminders_queue(now=now) == 0
    notice = anna.notices.get()
    assert notice.kind == "points_expiring" and notice.params["points"] == 300
    assert notice.url == reverse("loyalty:overview")
    assert notice.text.startswith("300 points expire on ")
    assert "Earn or spend points before then" in notice.text


def test_a_gift_from_a_friend_tells_the_recipient_who_gave_it():
    anna, ben = CustomerFactory(first_name="Anna", display_name=""), CustomerFactory()
    connection_befriend(customer=anna, other=ben)
    settled_points(anna, 100)
    gift_to_friend(sender=anna, recipient=ben, points=40, idempotency_key="k1")
    gift_to_friend(sender=anna, recipient=ben, points=40, idempotency_key="k1")
    notice = ben.notices.get()
    assert (notice.kind, notice.actor) == ("gift_received", anna)
    assert notice.text == f"{anna.name} gave you 40 points."
    assert not anna.notices.exists()


def test_a_gifted_reward_links_to_the_vouchers():
    anna, ben = CustomerFactory(), CustomerFactory()
    connection_befriend(customer=anna, other=ben)
    settled_points(anna, 100)
    reward = RewardFactory(name="Free flat white", points_cost=100)
    gift_to_friend(sender=anna, recipient=ben, reward=reward)
    notice = ben.notices.get()
    assert notice.url == reverse("loyalty:vouchers")
    assert notice.text == f"{anna.name} gave you a gift: Free flat white."


def test_a_staff_campaign_gift_and_a_birthday_gift_come_from_us(admin_user):
    anna = CustomerFactory(birthday=timezone.localdate().replace(year=1990))
    campaign = GiftCampaign.objects.create(
        name="Thank you",
        segment=GiftCampaign.Segment.ONE_CUSTOMER,
        customer=anna,
        points=25,
        created_by=admin_user,
    )
    gift_campaign_run(campaign_id=campaign.pk)
    birthday_gifts_award()
    birthday_gifts_award()
    texts = sorted(notice.text for notice in anna.notices.all())
    assert texts == [
        "You received a gift of 100 points from us.",
        "You received a gift of 25 points from us.",
    ]
    assert Notice.objects.filter(actor__isnull=False).count() == 0
