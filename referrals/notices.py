"""The referrals app's notices (see customers.notices): a friend joined through your link."""

from __future__ import annotations

from django.dispatch import receiver
from django.urls import reverse
from django.utils.translation import gettext as _

from customers.models import Notice
from customers.notices import actor_name, notice_create, notice_kind
from referrals.models import Referral
from referrals.signals import referral_attributed


@notice_kind("friend_joined")
def _friend_joined_text(notice: Notice) -> str:
    name = actor_name(notice)
    if notice.params.get("source") == Referral.Source.INVITATION:
        return _("%(name)s accepted your invitation and is now on your friends list.") % {
            "name": name
        }
    return _("%(name)s joined through your link and is now on your friends list.") % {"name": name}


@receiver(referral_attributed, dispatch_uid="referrals.notice_friend_joined")
def _friend_joined(sender, *, referral: Referral, **kwargs) -> None:
    # A self-referral (rejected) is not a friend joining.
    if referral.status == Referral.Status.REJECTED:
        return
    notice_create(
        customer=referral.referrer,
        kind="friend_joined",
        actor=referral.referee,
        params={"source": referral.source},
        url=reverse("referrals:invite"),
        source_key=f"referral:{referral.public_id}",
    )
