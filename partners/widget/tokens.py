"""Customer tokens: the partner's server says who is signed in on its page.

A token is a JWT signed with HS256 and the partner's widget secret, its `sub` the
partner's own id for the customer, its `aud` this site and its `exp` at most
TOKEN_LIFETIME ahead. Any token that fails a check (a forgery, another partner's, an
expired or too long-lived one, a customer whose link is not active) is no customer at
all: the widget shows the signed-out panel, never someone else's data.
"""

from __future__ import annotations

import time

import jwt
from django.conf import settings
from django.db.models import QuerySet

from core.sql import first_compiled_once
from customers.models import Customer
from partners.models import Partner, PartnerCustomer

ALGORITHM = "HS256"
TOKEN_LIFETIME = 600
# Clocks of the partner's server and ours may differ by this much.
CLOCK_SKEW = 30


def customer_token_sign(
    *, partner: Partner, external_id: str, lifetime: int = TOKEN_LIFETIME
) -> str:
    """What a partner's server does (docs/widget.md shows it in Python and JavaScript);
    here for the demo shop and the tests."""
    claims = {"sub": external_id, "aud": settings.SITE_URL, "exp": int(time.time()) + lifetime}
    return jwt.encode(claims, partner.widget_secret, algorithm=ALGORITHM)


def token_external_id(*, partner: Partner, token: str) -> str | None:
    """The partner's id for the customer a valid token names, or None."""
    if not token:
        return None
    try:
        claims = jwt.decode(
            token,
            partner.widget_secret,
            algorithms=[ALGORITHM],
            audience=settings.SITE_URL,
            leeway=CLOCK_SKEW,
            options={"require": ["exp", "sub", "aud"]},
        )
    except jwt.PyJWTError:
        return None
    # A token that lives longer than allowed would outlast a logout on the shop by as much.
    if claims["exp"] > time.time() + TOKEN_LIFETIME + CLOCK_SKEW:
        return None
    subject = claims["sub"]
    return subject if isinstance(subject, str) and subject else None


SHOWN = (
    "public_id",
    "referral_code",
    "language",
    "display_name",
    "erased_at",
    "user__email",
    "user__first_name",
    "user__last_name",
    "user__is_active",
    "points_account__settled_balance",
    "points_account__pending_balance",
    "points_account__last_activity_at",
    "points_account__tier",
    "points_account__tier_fresh_until",
    "points_account__tier_points",
    "points_account__tier_referrals",
    "points_account__tier_list_version",
)


def _actively_linked(*, partner_id: int, external_id: str) -> QuerySet[Customer]:
    # A merchant sees a member only after their yes: a pending or ended link is no one.
    # Only what the panel shows and the tier needs: every page view of the shop reads it.
    return (
        Customer.objects.filter(
            partner_links__partner_id=partner_id,
            partner_links__external_id=external_id,
            partner_links__status=PartnerCustomer.Status.ACTIVE,
            user__is_active=True,
            erased_at__isnull=True,
        )
        .select_related("user", "points_account")
        .only(*SHOWN)
        .order_by()
    )


def token_customer(*, partner: Partner, token: str) -> Customer | None:
    """The customer a valid token names through an active link of this partner, with
    their user and points account read along; None for anything else. Every page view of
    the shop asks, so the statement is compiled once per process."""
    external_id = token_external_id(partner=partner, token=token)
    if external_id is None:
        return None
    # (partner, external_id) is unique: one row at most, so no order to compile.
    return first_compiled_once(_actively_linked, partner_id=partner.pk, external_id=external_id)
