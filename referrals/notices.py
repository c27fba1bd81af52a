"""The referrals app's notices (see customers.notices): a friend joined through your link, a
friend answered an introduction, an introduction was won."""

from __future__ import annotations

from django.dispatch import receiver
from django.urls import reverse
from django.utils.translation import gettext as _

from customers.models import Notice
from customers.notices import actor_name, notice_create, notice_kind
from referrals.models import Introduction, Referral
from referrals.signals import introduction_answered, introduction_moved, referral_attributed


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


@notice_kind("introduction_answered")
def _introduction_answered_text(notice: Notice) -> str:
    if notice.params.get("accepted"):
        return _("%(friend)s said yes: %(contact)s will be in touch with them.") % notice.params
    return _("%(friend)s said no thanks to meeting %(contact)s.") % notice.params


@notice_kind("introduction_won")
def _introduction_won_text(notice: Notice) -> str:
    return _("%(friend)s became a customer through your introduction. Thank you!") % notice.params


def _introduction_params(introduction: Introduction) -> dict:
    return {"friend": introduction.friend_name, "contact": introduction.contact_person.name}


@receiver(introduction_answered, dispatch_uid="referrals.notice_introduction_answered")
def _introduction_answered(sender, *, introduction: Introduction, **kwargs) -> None:
    notice_create(
        customer=introduction.introducer,
        kind="introduction_answered",
        params={
            **_introduction_params(introduction),
            "accepted": introduction.status == Introduction.Status.NEW,
        },
        url=reverse("referrals:introductions"),
        source_key=f"introduction:{introduction.public_id}:answered",
    )


@receiver(introduction_moved, dispatch_uid="referrals.notice_introduction_won")
def _introduction_won(sender, *, introduction: Introduction, **kwargs) -> None:
    if introduction.status != Introduction.Status.WON:
        return
    notice_create(
        customer=introduction.introducer,
        kind="introduction_won",
        params=_introduction_params(introduction),
        url=reverse("referrals:introductions"),
        source_key=f"introduction:{introduction.public_id}:won:{introduction.won_count}",
    )
