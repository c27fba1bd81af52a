"""Pages of the referrals app: the link's landing page, invitations, the QR code, opting out."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from customers.models import Customer
from customers.selectors import referral_url
from customers.services import customer_for_user
from referrals.attribution import attribution_remember
from referrals.forms import InviteForm
from referrals.fragments import INVITATIONS_FRAGMENT_SECONDS, invitations_version
from referrals.invitations import (
    InvitationError,
    email_suppress,
    invitation_cancel,
    invitation_open,
    invitation_resend,
    invitations_create,
)
from referrals.models import Invitation
from referrals.selectors import friend_offer, invitations_of, referral_funnel, referrer_by_code
from referrals.services import link_visit_count
from referrals.sharing import qr_png, share_links


def _landing(request, *, referrer: Customer, invitation: Invitation | None = None):
    response = render(
        request,
        "referrals/landing.html",
        {
            "referrer": referrer,
            "offer": friend_offer(),
            "note": invitation.note if invitation else "",
        },
    )
    attribution_remember(
        response,
        code=referrer.referral_code,
        invitation_id=invitation.pk if invitation else None,
    )
    return response


def landing(request, code: str):
    """Who invites the visitor and what they get; the code is remembered for signup."""
    referrer = referrer_by_code(code=code)
    if referrer is None:
        return render(request, "referrals/link_invalid.html", status=404)
    link_visit_count(referrer=referrer)
    return _landing(request, referrer=referrer)


def invitation(request, token: str):
    """The link in an invitation email: marks it opened and remembers it until signup."""
    found = invitation_open(token=token)
    if found is None:
        return render(request, "referrals/link_invalid.html", status=404)
    return _landing(request, referrer=found.sender, invitation=found)


@login_required
def invite(request):
    """The customer's referral link, QR code, share links, invitation form and invitations."""
    customer = customer_for_user(user=request.user)
    form = InviteForm(request.POST or None)
    refused: list[tuple[str, str]] = []
    if request.method == "POST" and form.is_valid():
        try:
            outcome = invitations_create(
                sender=customer,
                addresses=form.cleaned_data["addresses"],
                note=form.cleaned_data["note"],
            )
        except InvitationError as error:
            form.add_error("addresses", str(error))
        else:
            refused = outcome.refused
            if outcome.invited:
                count = len(outcome.invited)
                messages.success(
                    request,
                    ngettext(
                        "%(count)d invitation on its way.",
                        "%(count)d invitations on their way.",
                        count,
                    )
                    % {"count": count},
                )
            if not refused:
                return redirect("referrals:invite")
            form = InviteForm(
                initial={
                    "addresses": "\n".join(address for address, _reason in refused),
                    "note": form.cleaned_data["note"],
                }
            )
    url = referral_url(customer=customer)
    return render(
        request,
        "referrals/invite.html",
        {
            "customer": customer,
            "form": form,
            "refused": refused,
            "referral_url": url,
            "share_links": share_links(url=url, first_name=customer.first_name),
            "offer": friend_offer(),
            # The counts and the invitations are cached under the version of the customer's
            # invitations; they are read only to build them afresh.
            "invitations_version": invitations_version(customer=customer),
            "invitations_seconds": INVITATIONS_FRAGMENT_SECONDS,
            "invitations": SimpleLazyObject(lambda: invitations_of(customer=customer)[:100]),
            "now": timezone.now(),
            "funnel": SimpleLazyObject(lambda: referral_funnel(customer=customer)),
        },
    )


@login_required
def qr_code(request):
    response = HttpResponse(
        qr_png(referral_url(customer=customer_for_user(user=request.user))),
        content_type="image/png",
    )
    response["Cache-Control"] = "private, max-age=86400"
    return response


@login_required
@require_POST
def resend(request, public_id):
    customer = customer_for_user(user=request.user)
    found = get_object_or_404(Invitation, public_id=public_id, sender=customer)
    try:
        invitation_resend(invitation=found, sender=customer)
    except InvitationError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The invitation will be sent again."))
    return redirect("referrals:invite")


@login_required
@require_POST
def cancel(request, public_id):
    customer = customer_for_user(user=request.user)
    found = get_object_or_404(Invitation, public_id=public_id, sender=customer)
    try:
        invitation_cancel(invitation=found, sender=customer)
    except InvitationError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Invitation cancelled; its link no longer works."))
    return redirect("referrals:invite")


# Mail clients post here for one-click unsubscribe (RFC 8058) without a CSRF token;
# the signed address in the URL is what authorises the request.
@csrf_exempt
def suppress(request, signed: str):
    """'Don't invite me again': a page with one button, or a direct POST from the mail client."""
    if request.method == "POST":
        done = email_suppress(signed=signed)
        status = 200 if done else 400
        return render(request, "referrals/suppressed.html", {"done": done}, status=status)
    return render(request, "referrals/suppress.html", {"signed": signed})
