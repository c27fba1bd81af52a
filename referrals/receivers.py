"""Receivers: attribution at signup (allauth) and rewards settling (loyalty)."""

from __future__ import annotations

from allauth.account.signals import user_signed_up
from django.dispatch import receiver

from loyalty.signals import transactions_settled
from referrals.attribution import attribution_by_invitation, attribution_from_request
from referrals.models import Referral
from referrals.services import UnknownReferralCode, referral_attribute, referrals_mark_rewarded


@receiver(user_signed_up, dispatch_uid="referrals.attribute_signup")
def attribute_signup(sender, request, user, **kwargs) -> None:
    """A friend who arrived through a link or an invitation is attributed at signup."""
    remembered = attribution_from_request(request) or attribution_by_invitation(user.email)
    if remembered is None or not hasattr(user, "customer"):
        return
    source = Referral.Source.INVITATION if remembered.invitation_id else Referral.Source.LINK
    try:
        referral_attribute(
            customer=user.customer,
            code=remembered.code,
            source=source,
            invitation_id=remembered.invitation_id,
        )
    except UnknownReferralCode:
        # The referrer left since the cookie was set: the friend simply joins.
        return


@receiver(transactions_settled, dispatch_uid="referrals.mark_rewarded")
def mark_rewarded(sender, batch, **kwargs) -> None:
    referrals_mark_rewarded(batch=batch)
