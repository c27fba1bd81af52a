"""Pages that compose several apps: the public home and the customer's dashboard.

They show referrals, points and reviews side by side, so they live at the top, in config
(the layers in STYLE.md), and only call the apps' selectors.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import etag

from core.fragments import anonymous_page_etag, fragment_versions
from customers.fragments import friends_name
from customers.models import Customer
from customers.selectors import friends_list, referral_url
from customers.services import customer_for_user
from loyalty.fragments import CATALOG, CATALOG_FRAGMENT_SECONDS, points_version
from loyalty.selectors import (
    active_rewards,
    balance_with_next_settlement,
    customer_history,
)
from loyalty.tiers import tier_progress
from referrals.fragments import invitations_name
from referrals.selectors import friend_offer, invitations_of
from referrals.sharing import share_links
from reviews.fragments import PUBLISHED_FRAGMENT_SECONDS, published_version_of, reviews_by_name
from reviews.selectors import published_reviews, reviews_by

RECENT_REVIEWS = 3
LATEST_ACTIVITY = 5


@dataclass(frozen=True)
class Nudge:
    text: str
    action: str
    url: str


@cache_control(max_age=86400)
def favicon(request):
    """Browsers ask for /favicon.ico on pages that name no icon (the admin's, a file's)."""
    return redirect(static("img/favicon.svg"))


@etag(
    # The offer, set by staff, sends no signal: it shows within the period, as a subject does.
    lambda request: anonymous_page_etag(
        request, published_version_of(request), seconds=PUBLISHED_FRAGMENT_SECONDS
    )
)
def home(request):
    return render(
        request,
        "portal/home.html",
        {
            # The page is the same for every visitor in a language: it is cached in each
            # process under the reviews' version, and these are read only to build it.
            "offer": SimpleLazyObject(friend_offer),
            "reviews": SimpleLazyObject(lambda: list(published_reviews()[:RECENT_REVIEWS])),
            "reviews_version": published_version_of(request),
            "reviews_seconds": PUBLISHED_FRAGMENT_SECONDS,
        },
    )


def _nudge(customer: Customer, settled: int) -> Nudge:
    """The one next step that fits: invite first, then spend, then speak."""
    if not invitations_of(customer=customer).exists():
        return Nudge(
            _("Your friends would love this too: invite them and you both get a thank-you."),
            _("Invite friends"),
            reverse("referrals:invite"),
        )
    cheapest = active_rewards().order_by("points_cost").first()
    if cheapest is not None and settled >= cheapest.points_cost:
        return Nudge(
            _("You have enough points for a reward. Treat yourself!"),
            _("See rewards"),
            reverse("loyalty:catalog"),
        )
    if not reviews_by(customer=customer).exists():
        return Nudge(
            _("Tell others what you think: write your first review."),
            _("Write a review"),
            reverse("reviews:subject_list"),
        )
    return Nudge(
        _("Thank you for spreading the word. Invite another friend?"),
        _("Invite friends"),
        reverse("referrals:invite"),
    )


@login_required
def dashboard(request):
    customer = customer_for_user(user=request.user)
    balance = balance_with_next_settlement(customer=customer)
    versions = fragment_versions(
        friends_name(customer.pk),
        invitations_name(customer.pk),
        reviews_by_name(customer.pk),
        CATALOG,
    )

    url = referral_url(customer=customer)
    return render(
        request,
        "portal/dashboard.html",
        {
            "customer": customer,
            # The cards are cached under the versions of what they show: the ledger (and the
            # tier list), the friends list, invitations, reviews and the catalog (the
            # suggestion); what they show is read only to build them afresh.
            "dashboard_version": f"{points_version(balance)}:{versions}",
            "dashboard_seconds": CATALOG_FRAGMENT_SECONDS,
            "balance": balance,
            "referral_url": url,
            "share_links": share_links(url=url, first_name=customer.first_name),
            "progress": SimpleLazyObject(lambda: tier_progress(customer=customer)),
            "activity": SimpleLazyObject(
                lambda: list(customer_history(customer=customer)[:LATEST_ACTIVITY])
            ),
            "friends": SimpleLazyObject(lambda: friends_list(customer=customer)),
            "nudge": SimpleLazyObject(lambda: _nudge(customer, balance.settled)),
        },
    )
