"""Invitees who never joined are forgotten after the retention period; their hash stays."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from referrals.models import Invitation
from referrals.privacy import invitees_forget
from referrals.rules import email_key
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _invitation(sender, email: str, status: str, ended_days_ago: int | None) -> Invitation:
    finished = (
        timezone.now() - timedelta(days=ended_days_ago) if ended_days_ago is not None else None
    )
    return Invitation.objects.create(
        sender=sender,
        email=email,
        email_key=email_key(email),
        note="Come along!",
        token_salt="s",
        token_hash=email_key(email + "token"),
        queued_at=timezone.now(),
        status=status,
        finished_at=finished,
    )


def test_only_ended_invitations_past_retention_lose_their_address(settings):
    settings.INVITEE_RETENTION_DAYS = 30
    anna = CustomerFactory()
    old = _invitation(anna, "old@example.com", "expired", 31)
    bounced = _invitation(anna, "bounced@example.com", "bounced", 40)
    recent = _invitation(anna, "recent@example.com", "expired", 5)
    joined = _invitation(anna, "joined@example.com", "accepted", 90)
    waiting = _invitation(anna, "waiting@example.com", "sent", None)

    assert invitees_forget() == 2
    assert invitees_forget() == 0, "a second run finds nothing left"
    for invitation in (old, bounced):
        invitation.refresh_from_db()
        assert (invitation.email, invitation.note) == ("", "")
    old.refresh_from_db()
    assert old.email_key == email_key("old@example.com")
    for invitation, email in [(recent, "recent"), (joined, "joined"), (waiting, "waiting")]:
        invitation.refresh_from_db()
        assert invitation.email == f"{email}@example.com"
    assert not Invitation.objects.filter(email__in=["old@example.com", "bounced@example.com"])
