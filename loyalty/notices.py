"""The loyalty app's notices (see customers.notices): rewards settled, points about to
expire, gifts received. Receivers of loyalty's own signals, inside the transaction that
made the change, so a notice exists exactly when its event does."""

from __future__ import annotations

import uuid
from datetime import date

from django.db.models import CharField, F, Value
from django.db.models.functions import Cast, Concat, JSONObject
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from customers.models import Notice
from customers.notices import actor_name, notice_create, notice_kind, notices_insert_selected
from loyalty.models import Entry, ExpiryNotice, Gift
from loyalty.notifications import ANNOUNCED_KINDS
from loyalty.signals import gift_given, points_expiring, transactions_settled


@notice_kind("reward_settled")
def _reward_settled_text(notice: Notice) -> str:
    points = notice.params["points"]
    if notice.params.get("reward") == "welcome_gift":
        return ngettext(
            "Your welcome gift of %(points)d point has settled: it is yours to spend.",
            "Your welcome gift of %(points)d points has settled: they are yours to spend.",
            points,
        ) % {"points": points}
    return ngettext(
        "Your reward of %(points)d point for referring a friend has settled.",
        "Your reward of %(points)d points for referring a friend has settled.",
        points,
    ) % {"points": points}


@notice_kind("points_expiring")
def _points_expiring_text(notice: Notice) -> str:
    points = notice.params["points"]
    expires = date_format(date.fromisoformat(notice.params["expires_on"]), "DATE_FORMAT")
    return ngettext(
        "%(points)d point expires on %(date)s. Earn or spend points before then to keep it.",
        "%(points)d points expire on %(date)s. Earn or spend points before then to keep them.",
        points,
    ) % {"points": points, "date": expires}


@notice_kind("gift_received")
def _gift_received_text(notice: Notice) -> str:
    params = notice.params
    if params.get("from_friend"):
        name = actor_name(notice)
        if params.get("reward"):
            return _("%(name)s gave you a gift: %(reward)s.") % {
                "name": name,
                "reward": params["reward"],
            }
        return ngettext(
            "%(name)s gave you %(points)d point.",
            "%(name)s gave you %(points)d points.",
            params["points"],
        ) % {"name": name, "points": params["points"]}
    if params.get("reward"):
        return _("You received a gift from us: %(reward)s.") % {"reward": params["reward"]}
    return ngettext(
        "You received a gift of %(points)d point from us.",
        "You received a gift of %(points)d points from us.",
        params["points"],
    ) % {"points": params["points"]}


@receiver(transactions_settled, dispatch_uid="loyalty.notice_rewards_settled")
def _rewards_settled(sender, *, batch: uuid.UUID, **kwargs) -> None:
    """One notice per settled reward, for a whole settlement batch in one statement."""
    credits = Entry.objects.filter(
        transaction__settlement_batch=batch,
        transaction__kind__in=ANNOUNCED_KINDS,
        account__customer__isnull=False,
        account__customer__erased_at__isnull=True,
        amount__gt=0,
    )
    notices_insert_selected(
        credits,
        customer=F("account__customer"),
        kind="reward_settled",
        params=JSONObject(points=F("amount"), reward=F("transaction__kind")),
        url=reverse("loyalty:history"),
        source_key=Concat(Value("settled:"), Cast("transaction_id", CharField())),
    )


@receiver(points_expiring, dispatch_uid="loyalty.notice_points_expiring")
def _points_expiring(sender, *, reminder: ExpiryNotice, **kwargs) -> None:
    notice_create(
        customer=reminder.account.customer,
        kind="points_expiring",
        params={
            "points": reminder.points,
            "expires_on": timezone.localdate(reminder.expires_at).isoformat(),
        },
        url=reverse("loyalty:overview"),
        source_key=f"expiry:{reminder.pk}",
    )


@receiver(gift_given, dispatch_uid="loyalty.notice_gift_received")
def _gift_received(sender, *, gift: Gift, **kwargs) -> None:
    params: dict[str, object] = {"from_friend": gift.sender_id is not None}
    if gift.reward_id:
        params["reward"] = gift.reward.name
        url = reverse("loyalty:vouchers")
    else:
        params["points"] = gift.points
        url = reverse("loyalty:history")
    notice_create(
        customer=gift.recipient,
        kind="gift_received",
        params=params,
        actor=gift.sender,
        url=url,
        source_key=f"gift:{gift.public_id}",
    )
