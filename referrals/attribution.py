"""The signed cookie that remembers which link or invitation brought a visitor."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from referrals.models import Invitation
from referrals.rules import email_key
from referrals.selectors import program_active

COOKIE_NAME = "kindred_referral"
COOKIE_SALT = "referrals.attribution"
DEFAULT_WINDOW_DAYS = 30


@dataclass(frozen=True)
class Remembered:
    code: str
    invitation_id: int | None = None


def _window_seconds() -> int:
    program = program_active()
    return (program.attribution_window_days if program else DEFAULT_WINDOW_DAYS) * 86400


def attribution_remember(
    response: HttpResponse, *, code: str, invitation_id: int | None = None
) -> None:
    """Sign the code (and invitation) into a cookie that lasts the attribution window."""
    value = f"{code}:{invitation_id or ''}"
    response.set_signed_cookie(
        COOKIE_NAME,
        value,
        salt=COOKIE_SALT,
        max_age=_window_seconds(),
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )


def attribution_from_request(request: HttpRequest | None) -> Remembered | None:
    """What the cookie remembers, if it is there, intact and within the window."""
    if request is None:
        return None
    value = request.get_signed_cookie(
        COOKIE_NAME, default=None, salt=COOKIE_SALT, max_age=_window_seconds()
    )
    if not value:
        return None
    code, _, invitation = value.partition(":")
    return Remembered(code=code, invitation_id=int(invitation) if invitation.isdigit() else None)


def attribution_by_invitation(email: str) -> Remembered | None:
    """Without a cookie, a friend who signs up with an invited address is that inviter's
    (the earliest open invitation wins)."""
    invitation = (
        Invitation.objects.filter(email_key=email_key(email), status__in=Invitation.OPEN_STATUSES)
        .select_related("sender")
        .order_by("created_at")
        .first()
    )
    if invitation is None:
        return None
    return Remembered(code=invitation.sender.referral_code, invitation_id=invitation.pk)
