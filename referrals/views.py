"""Pages of the referrals app: the referral link's landing page, invitations, the QR code."""

from __future__ import annotations

from django.shortcuts import render

from referrals.attribution import attribution_remember
from referrals.selectors import friend_offer, referrer_by_code
from referrals.services import link_visit_count


def landing(request, code: str):
    """Who invites the visitor and what they get; the code is remembered for signup."""
    referrer = referrer_by_code(code=code)
    if referrer is None:
        return render(request, "referrals/link_invalid.html", status=404)
    link_visit_count(referrer=referrer)
    response = render(
        request,
        "referrals/landing.html",
        {"referrer": referrer, "offer": friend_offer()},
    )
    attribution_remember(response, code=referrer.referral_code)
    return response
