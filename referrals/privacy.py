"""The referrals app's part of data rights: its export section and erasure (customers.signals)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.dispatch import receiver
from django.utils import timezone

from customers.models import Customer, Notice
from customers.privacy import DataSection
from customers.signals import customer_erased, personal_data_collect
from referrals.fragments import invitations_changing
from referrals.models import (
    Introduction,
    IntroductionMove,
    Invitation,
    InvitationRefusal,
    LinkVisit,
    Referral,
)
from referrals.rules import email_key


@receiver(personal_data_collect, dispatch_uid="referrals.referrals_section")
def referrals_section(sender, *, customer: Customer, **kwargs) -> DataSection:
    referrals = Referral.objects.filter(Q(referrer=customer) | Q(referee=customer)).select_related(
        "referrer__user", "referee__user"
    )
    return DataSection(
        name="referrals",
        models=(Referral, Invitation, InvitationRefusal, LinkVisit, Introduction, IntroductionMove),
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
            # How many addresses of a paste were refused (kept for a day, for the daily cap).
            "invitation_addresses_refused": list(
                InvitationRefusal.objects.filter(sender=customer).values("addresses", "created_at")
            ),
            "link_visits": list(
                LinkVisit.objects.filter(referrer=customer).values("day", "visits")
            ),
            "introductions_made": list(
                customer.introductions.values(
                    "friend_name",
                    "friend_email",
                    "looking_for",
                    "note",
                    "status",
                    "contact_person__name",
                    "won_value",
                    "reward_reason",
                    "created_at",
                    "answered_at",
                )
            ),
            # Introductions of this customer by someone else, as the friend.
            "introductions_received": list(
                Introduction.objects.filter(friend_email_key=email_key(customer.user.email))
                .exclude(introducer=customer)
                .values("friend_name", "looking_for", "status", "created_at", "answered_at")
            ),
        },
    )


@receiver(customer_erased, dispatch_uid="referrals.erase")
def erase(sender, *, customer: Customer, email: str, **kwargs) -> None:
    """Invitations hold addresses and notes: those the customer sent, and those sent to them.

    Open ones are cancelled; the address hash stays, for the suppression list and the
    one-open-invitation rule. Referrals stay (the ledger's rewards point at them) but hold
    no personal data of their own; the referral code stops working with the account.
    """
    invitations = Invitation.objects.filter(
        Q(sender=customer) | Q(referrals__referee=customer) | Q(email_key=email_key(email))
    )
    with invitations_changing(invitations):
        invitations.filter(status__in=Invitation.OPEN_STATUSES).update(
            status=Invitation.Status.CANCELLED, finished_at=timezone.now()
        )
        invitations.update(email="", note="", last_error="")
    _introductions_erase(customer=customer, email=email)


def _introductions_erase(*, customer: Customer, email: str) -> None:
    """Introductions the customer made, and those of them as the friend, lose the friend's
    name, address, wishes, the note and staff's notes; open questions end unanswered. The
    address hash stays (a friend who said no is not asked again), and so do the rows the
    ledger's rewards point at."""
    introductions = Introduction.objects.filter(
        Q(introducer=customer) | Q(friend_email_key=email_key(email))
    )
    introductions.filter(status=Introduction.Status.ASKING).update(
        status=Introduction.Status.UNANSWERED, answered_at=timezone.now()
    )
    introductions.update(friend_name="", friend_email="", looking_for="", note="")
    IntroductionMove.objects.filter(introduction__in=introductions).update(note="")
    # The introducer's notices name the friend.
    for public_id in introductions.values_list("public_id", flat=True):
        Notice.objects.filter(source_key__startswith=f"introduction:{public_id}:").delete()


def invitees_forget(*, now: datetime | None = None) -> int:
    """Blank the address and note of invitations that ended without the friend joining.

    Runs daily; the hash of the address stays for the suppression list and fraud rules.
    Returns how many invitations were cleared.
    """
    cutoff = (now or timezone.now()) - timedelta(days=settings.INVITEE_RETENTION_DAYS)
    ended = [
        Invitation.Status.EXPIRED,
        Invitation.Status.BOUNCED,
        Invitation.Status.FAILED,
        Invitation.Status.CANCELLED,
    ]
    forgotten = Invitation.objects.filter(status__in=ended, finished_at__lt=cutoff).exclude(
        email="", note=""
    )
    with invitations_changing(forgotten):
        return forgotten.update(email="", note="", last_error="")
