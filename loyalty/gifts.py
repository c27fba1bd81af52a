"""Gifts: a customer to someone on their friends list, or staff to a customer or a segment."""

from __future__ import annotations

import calendar
from datetime import date

from django.db import IntegrityError
from django.db import transaction as db_transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.db import enqueue_after_commit
from customers.models import ConsentRecord, Customer, User
from customers.privacy import customer_email_send
from customers.selectors import friends_of
from loyalty.earning import earn_rule
from loyalty.ledger import LedgerError, points_award, points_transfer
from loyalty.memos import Memo
from loyalty.models import Account, Gift, GiftCampaign, Reward, Tier, Transaction
from loyalty.signals import gift_given
from loyalty.tiers import customer_tier
from loyalty.vouchers import RewardUnavailable, reward_redeem, reward_take_one, voucher_issue


class GiftError(LedgerError):
    """A gift that cannot be given; the message is for the person giving it."""


def _gift_announce(gift: Gift) -> None:
    """Email the recipient (through the outbox) and tell the apps that listen, inside the
    gift's transaction."""
    gift_email_send(gift_id=gift.pk)
    gift_given.send(sender=Gift, gift=gift)


def gift_to_friend(
    *,
    sender: Customer,
    recipient: Customer,
    points: int | None = None,
    reward: Reward | None = None,
    note: str = "",
    idempotency_key: str | None = None,
) -> Gift:
    """Give settled points, or a reward the sender can afford, to a friend; the friend is emailed.

    Raises `GiftError` (not a friend, neither or both of points and reward),
    `InsufficientPoints` or `RewardUnavailable`; nothing changes then.
    """
    if (points is None) == (reward is None):
        raise GiftError(_("Give either points or a reward."))
    if recipient.pk not in {friend.pk for friend in friends_of(customer=sender)}:
        raise GiftError(_("You can give gifts to people on your friends list."))
    with db_transaction.atomic():
        gift = Gift(sender=sender, recipient=recipient, points=points, reward=reward, note=note)
        if reward is not None:
            redemption = reward_redeem(
                customer=sender,
                reward=reward,
                recipient=recipient,
                idempotency_key=idempotency_key and f"gift:{idempotency_key}",
            )
            gift.transaction, gift.voucher = redemption.transaction, redemption.voucher
        else:
            gift.transaction = points_transfer(
                sender=sender,
                recipient=recipient,
                points=points,
                kind=Transaction.Kind.GIFT,
                memo=Memo(kind="friend_gift"),
                idempotency_key=idempotency_key and f"gift:{idempotency_key}",
                cause="gift",
            )
        earlier = Gift.objects.filter(transaction=gift.transaction).first()
        if earlier is not None:
            return earlier
        gift.save()
        _gift_announce(gift)
    return gift


def gift_email_send(*, gift_id: int) -> bool:
    """Tell the recipient about their gift, if they take activity emails; returns whether sent."""
    gift = (
        Gift.objects.select_related("sender__user", "recipient__user", "reward", "voucher")
        .filter(pk=gift_id)
        .first()
    )
    if gift is None:
        return False
    return customer_email_send(
        customer=gift.recipient,
        template="loyalty/gift_received",
        context={"gift": gift, "recipient": gift.recipient, "sender": gift.sender},
        topic=ConsentRecord.Topic.NOTIFICATIONS,
    )


def gift_campaign_create(
    *,
    actor: User,
    name: str,
    segment: str,
    points: int | None = None,
    reward: Reward | None = None,
    note: str = "",
    customer: Customer | None = None,
    tier: Tier | None = None,
    min_referrals: int | None = None,
) -> GiftCampaign:
    """Record a staff gift campaign and queue the task that gives the gifts.

    Raises `ValidationError` (the model's rules) when it is incomplete.
    """

    campaign = GiftCampaign(
        name=name,
        segment=segment,
        points=points,
        reward=reward,
        note=note,
        customer=customer,
        tier=tier,
        min_referrals=min_referrals,
        created_by=actor,
    )
    campaign.full_clean()
    with db_transaction.atomic():
        campaign.save()
        enqueue_after_commit("loyalty.tasks.ledger_gift_campaign_run", campaign.pk)
    return campaign


def gift_campaign_recipients(campaign: GiftCampaign) -> QuerySet[Customer]:
    """Who the campaign gives to, read when it runs."""
    customers = Customer.objects.select_related("user").order_by("pk")
    match campaign.segment:
        case GiftCampaign.Segment.ONE_CUSTOMER:
            return customers.filter(pk=campaign.customer_id)
        case GiftCampaign.Segment.BIRTHDAY_THIS_MONTH:
            return customers.filter(birthday__month=timezone.localdate().month)
        case GiftCampaign.Segment.REFERRERS:
            referrals = Count(
                "points_account__entries",
                filter=Q(
                    points_account__entries__amount__gt=0,
                    points_account__entries__transaction__kind=Transaction.Kind.REFERRAL_REWARD,
                    points_account__entries__transaction__status=Transaction.Status.POSTED,
                ),
            )
            return customers.annotate(referrals=referrals).filter(
                referrals__gte=campaign.min_referrals or 1
            )
        case GiftCampaign.Segment.TIER:
            # Tiers are computed, not stored: each customer is placed in turn.
            ids = [c.pk for c in customers if customer_tier(customer=c) == campaign.tier]
            return customers.filter(pk__in=ids)
    raise GiftError(f"Unknown segment {campaign.segment}.")


def _campaign_gift(campaign: GiftCampaign, recipient: Customer) -> bool:
    """Give one customer their gift; False when a previous run already did."""
    try:
        with db_transaction.atomic():
            gift = Gift.objects.create(
                campaign=campaign,
                recipient=recipient,
                points=campaign.points,
                reward=campaign.reward,
                note=campaign.note,
            )
            if campaign.reward is not None:
                reward_take_one(reward=campaign.reward)
                gift.voucher = voucher_issue(customer=recipient, reward=campaign.reward)
            else:
                gift.transaction = points_award(
                    customer=recipient,
                    points=campaign.points,
                    source=Account.System.GIFTS,
                    kind=Transaction.Kind.GIFT,
                    memo=Memo.note(campaign.note)
                    if campaign.note
                    else Memo(kind="campaign_gift", params={"campaign": campaign.name}),
                    idempotency_key=f"campaign:{campaign.pk}:{recipient.pk}",
                    cause="gift",
                    cause_ref=str(gift.public_id),
                    actor=campaign.created_by,
                )
            gift.save(update_fields=["voucher", "transaction"])
            _gift_announce(gift)
    except IntegrityError:
        if Gift.objects.filter(campaign=campaign, recipient=recipient).exists():
            return False
        raise
    return True


def gift_campaign_run(*, campaign_id: int) -> GiftCampaign:
    """Give every recipient their gift, counting progress; safe to run again after a crash."""
    claimed = GiftCampaign.objects.filter(
        pk=campaign_id, status__in=[GiftCampaign.Status.QUEUED, GiftCampaign.Status.RUNNING]
    ).update(status=GiftCampaign.Status.RUNNING)
    campaign = GiftCampaign.objects.select_related("reward", "created_by").get(pk=campaign_id)
    if not claimed:
        return campaign
    recipients = list(gift_campaign_recipients(campaign))
    GiftCampaign.objects.filter(pk=campaign.pk).update(
        total=len(recipients), done=campaign.gifts.count()
    )
    for recipient in recipients:
        try:
            given = _campaign_gift(campaign, recipient)
        except RewardUnavailable as error:
            GiftCampaign.objects.filter(pk=campaign.pk).update(
                status=GiftCampaign.Status.STOPPED,
                stopped_reason=str(error),
                finished_at=timezone.now(),
            )
            break
        if given:
            GiftCampaign.objects.filter(pk=campaign.pk).update(done=F("done") + 1)
    else:
        GiftCampaign.objects.filter(pk=campaign.pk).update(
            status=GiftCampaign.Status.DONE, finished_at=timezone.now()
        )
    campaign.refresh_from_db()
    return campaign


def _birthdays_on(day: date) -> Q:
    born_today = Q(birthday__month=day.month, birthday__day=day.day)
    if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year):
        born_today |= Q(birthday__month=2, birthday__day=29)
    return born_today


def birthday_gifts_award(*, today: date | None = None) -> int:
    """Give the rule's birthday points to everyone born today, once a year; returns how many."""
    today = today or timezone.localdate()
    points = earn_rule().birthday_gift
    if not points:
        return 0
    given = 0
    born_today = Customer.objects.filter(_birthdays_on(today), erased_at__isnull=True)
    for customer in born_today.iterator():
        with db_transaction.atomic():
            awarded = points_award(
                customer=customer,
                points=points,
                source=Account.System.GIFTS,
                kind=Transaction.Kind.GIFT,
                memo=Memo(kind="birthday_gift"),
                idempotency_key=f"birthday:{customer.pk}:{today.year}",
                cause="birthday",
            )
            gift, created = Gift.objects.get_or_create(
                transaction=awarded,
                defaults={"recipient": customer, "points": points, "note": "Happy birthday!"},
            )
            if created:
                _gift_announce(gift)
                given += 1
    return given
