"""The referrals app's part of data rights: its export section and what erasure removes."""

from __future__ import annotations

from django.db.models import Q
from django.dispatch import receiver
from django.utils import timezone

from customers.models import Customer
from customers.privacy import DataSection
from customers.signals import customer_erased, personal_data_collect
from referrals.models import Invitation, LinkVisit, Referral
from referrals.rules import email_key


@receiver(personal_data_collect, dispatch_uid="referrals.referrals_section")
def referrals_section(sender, *, customer: Customer, **kwargs) -> DataSection:
    referrals = Referral.objects.filter(Q(referrer=customer) | Q(referee=customer)).select_related(
        "referrer__user", "referee__user"
    )
    return DataSection(
        name="referrals",
        models=(Referral, Invitation, LinkVisit),
        records={
            "referred_by": [
                {"referrer": referral.referrer.name, "created_at": referral.created_at}
                for referral in referrals
                if referral.referee_id == customer.pk
            ],
            "friends_referred": [
                {
                    "friend": referral.referee.name,
                    "status": referral.status,
                    "created_at": referral.created_at,
                }
                for referral in referrals
                if referral.referrer_id == customer.pk
            ],
            "invitations_sent": list(
                customer.invitations.values("email", "note", "status", "created_at", "sent_at")
            ),
            "link_visits": list(
                LinkVisit.objects.filter(referrer=customer).values("day", "visits")
            ),
        },
    )


@receiver(customer_erased, dispatch_uid="referrals.invitations_forget")
def invitations_forget(sender, *, customer: Customer, email: str, **kwargs) -> None:
    """Drop the addresses and notes of their invitations, and invitations sent to them.

    The address hash stays: the suppression list and the one-open-invitation rule need it.
    """
    now = timezone.now()
    mine_or_to_me = Invitation.objects.filter(Q(sender=customer) | Q(email_key=email_key(email)))
    mine_or_to_me.filter(status__in=Invitation.OPEN_STATUSES).update(
        status=Invitation.Status.CANCELLED, finished_at=now
    )
    mine_or_to_me.update(email="", note="", last_error="")
