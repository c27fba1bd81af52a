"""The customer's rewards pages: balance and tier, history, catalog, vouchers, gifts."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _

from core.fragments import fragment_versions
from customers.fragments import friends_name
from customers.selectors import friends_of
from customers.services import customer_for_user
from loyalty.forms import GiftForm
from loyalty.fragments import (
    CATALOG,
    CATALOG_FRAGMENT_SECONDS,
    VOUCHERS_FRAGMENT_SECONDS,
    catalog_version,
    points_version,
    vouchers_version,
)
from loyalty.gifts import gift_to_friend
from loyalty.ledger import LedgerError
from loyalty.selectors import (
    LEDGER_FRAGMENT_SECONDS,
    active_rewards,
    balance_with_next_settlement,
    customer_history,
    customer_vouchers,
)
from loyalty.tiers import tier_progress
from loyalty.vouchers import reward_redeem

HISTORY_PAGE_SIZE = 20


@login_required
def overview(request):
    customer = customer_for_user(user=request.user)
    balance = balance_with_next_settlement(customer=customer)
    return render(
        request,
        "loyalty/overview.html",
        {
            # The cards are cached under the versions of the ledger, the tier list and the
            # vouchers; the tier and the vouchers are read only to build them afresh.
            "customer": customer,
            "balance": balance,
            "ledger_version": points_version(balance),
            "ledger_seconds": LEDGER_FRAGMENT_SECONDS,
            "vouchers_version": vouchers_version(customer),
            "vouchers_seconds": VOUCHERS_FRAGMENT_SECONDS,
            "progress": SimpleLazyObject(lambda: tier_progress(customer=customer)),
            "vouchers": SimpleLazyObject(
                lambda: list(customer_vouchers(customer).filter(status="active")[:3])
            ),
        },
    )


@login_required
def history(request):
    customer = customer_for_user(user=request.user)
    asked = request.GET.get("page", "")

    def page_of_entries():
        entries = customer_history(customer=customer).select_related(
            "transaction__gift__sender__user", "transaction__gift__recipient__user"
        )
        return Paginator(entries, HISTORY_PAGE_SIZE).get_page(asked)

    return render(
        request,
        "loyalty/history.html",
        {
            # The table is cached under the version of the customer's ledger; the page of
            # entries is read only to build it afresh.
            "customer": customer,
            "ledger_version": balance_with_next_settlement(customer=customer).version,
            "ledger_seconds": LEDGER_FRAGMENT_SECONDS,
            "page_asked": asked[:12],
            "page": SimpleLazyObject(page_of_entries),
        },
    )


@login_required
def catalog(request):
    customer = customer_for_user(user=request.user)
    balance = balance_with_next_settlement(customer=customer)
    return render(
        request,
        "loyalty/catalog.html",
        {
            # The offers are cached under the catalog's version and the settled points they
            # are measured against; the rewards are read only to build them afresh.
            "catalog_version": catalog_version(),
            "catalog_seconds": CATALOG_FRAGMENT_SECONDS,
            # Each reward with the settled points still missing for it (0: redeemable now).
            "offers": SimpleLazyObject(
                lambda: [
                    (reward, max(reward.points_cost - balance.settled, 0))
                    for reward in active_rewards()
                ]
            ),
            "balance": balance,
        },
    )


@login_required
def redeem(request, public_id):
    """GET asks for confirmation; POST spends the points and issues the voucher."""
    customer = customer_for_user(user=request.user)
    reward = get_object_or_404(active_rewards(), public_id=public_id)
    if request.method != "POST":
        return render(
            request,
            "loyalty/redeem_confirm.html",
            {"reward": reward, "balance": balance_with_next_settlement(customer=customer)},
        )
    try:
        redemption = reward_redeem(customer=customer, reward=reward)
    except LedgerError as error:
        messages.error(request, _("We could not redeem it: %(error)s") % {"error": error})
        return redirect("loyalty:catalog")
    messages.success(
        request,
        _("Done! Your voucher code is %(code)s.") % {"code": redemption.voucher.code},
    )
    return redirect("loyalty:vouchers")


@login_required
def vouchers(request):
    customer = customer_for_user(user=request.user)
    return render(
        request,
        "loyalty/vouchers.html",
        {
            # Cached under the version of the customer's vouchers; read only to build afresh.
            "customer": customer,
            "vouchers_version": vouchers_version(customer),
            "vouchers_seconds": VOUCHERS_FRAGMENT_SECONDS,
            "vouchers": SimpleLazyObject(lambda: list(customer_vouchers(customer))),
        },
    )


@login_required
def gift(request):
    customer = customer_for_user(user=request.user)
    friends = SimpleLazyObject(lambda: friends_of(customer=customer))
    if request.method != "POST":
        return _gift_page(
            request,
            customer,
            friends,
            SimpleLazyObject(lambda: GiftForm(friends=friends, rewards=active_rewards())),
        )
    form = GiftForm(request.POST, friends=friends, rewards=active_rewards())
    if form.is_valid():
        data = form.cleaned_data
        giving_points = data["what"] == GiftForm.POINTS
        try:
            gift_to_friend(
                sender=customer,
                recipient=data["friend"],
                points=data["points"] if giving_points else None,
                reward=None if giving_points else data["reward"],
                note=data["note"],
            )
        except LedgerError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("Your gift is on its way to %(name)s.") % {"name": data["friend"].name},
            )
            return redirect("loyalty:overview")
    return _gift_page(request, customer, friends, form)


def _gift_page(request, customer, friends, form):
    """A blank form is cached under the versions of the friends list and the catalog it
    offers (the friends are read only to build it afresh); a form sent back with errors is
    drawn afresh and never stored."""
    sent = request.method == "POST"
    return render(
        request,
        "loyalty/gift.html",
        {
            "customer": customer,
            "form": form,
            "form_sent": sent,
            "form_version": fragment_versions(friends_name(customer.pk), CATALOG),
            "form_seconds": 0 if sent else CATALOG_FRAGMENT_SECONDS,
            "friends": friends,
            "balance": balance_with_next_settlement(customer=customer),
        },
    )
