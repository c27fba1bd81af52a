"""The customer's own pages: dashboard, profile and friends list."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from customers.forms import (
    AccountDeleteForm,
    AvatarForm,
    FriendRequestForm,
    ProfileForm,
    profile_form_digest,
)
from customers.fragments import (
    FRIENDS_FRAGMENT_SECONDS,
    NOTICES_FRAGMENT_SECONDS,
    friends_version,
    notices_version,
)
from customers.languages import session_language_set
from customers.models import Connection, ConsentRecord, Customer, DataExport, Notice
from customers.notices import (
    PAGE_SIZE,
    customer_notices,
    notice_mark_read,
    notices_mark_all_read,
    unread_notice_count,
)
from customers.privacy import (
    consent_set,
    customer_erase,
    data_export_request,
    unsubscribe_token_read,
)
from customers.selectors import friends_list
from customers.services import (
    FriendsListError,
    connection_remove,
    connection_request_by_email,
    connection_respond,
    customer_avatar_set,
    customer_for_user,
    customer_language_set,
    customer_profile_update,
)


@login_required
def profile(request):
    customer = customer_for_user(user=request.user)
    form = ProfileForm(instance=customer)
    avatar_form = AvatarForm()
    if request.method == "POST" and "avatar" in request.FILES:
        avatar_form = AvatarForm(request.POST, request.FILES)
        if avatar_form.is_valid():
            customer_avatar_set(customer=customer, photo=avatar_form.cleaned_data["avatar"])
            messages.success(request, _("Your photo has been updated."))
            return redirect("customers:profile")
    elif request.method == "POST":
        form = ProfileForm(request.POST, instance=customer)
        if form.is_valid():
            customer_profile_update(customer=customer, **form.cleaned_data)
            session_language_set(request, form.cleaned_data["language"])
            # The message is read on the next page, in the language just chosen.
            translation.activate(
                form.cleaned_data["language"] or translation.get_language_from_request(request)
            )
            messages.success(request, _("Your profile has been saved."))
            return redirect("customers:profile")
    return render(
        request,
        "customers/profile.html",
        {
            "customer": customer,
            "form": form,
            "avatar_form": avatar_form,
            # The unbound form is cached under a digest of the values it shows.
            "profile_form_key": f"profile:{customer.pk}:{profile_form_digest(customer)}",
        },
    )


@login_required
def friends(request):
    customer = customer_for_user(user=request.user)
    form = FriendRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            confirmed = connection_request_by_email(
                requester=customer,
                email=form.cleaned_data["email"],
                relation=form.cleaned_data["relation"],
            )
        except FriendsListError as error:
            form.add_error("email", str(error))
        else:
            if confirmed is not None:
                messages.success(request, _("You are now connected."))
            else:
                # The same words whether or not the address is a member's.
                messages.success(
                    request,
                    _(
                        "Request sent. If that address belongs to a member, they'll see your "
                        "request and can confirm it."
                    ),
                )
            return redirect("customers:friends")
    return render(
        request,
        "customers/friends.html",
        {
            "customer": customer,
            # The lists are cached under the version of the customer's friends list; they
            # are read only to build them afresh.
            "friends_version": friends_version(customer),
            "friends_seconds": FRIENDS_FRAGMENT_SECONDS,
            "friends": SimpleLazyObject(lambda: friends_list(customer=customer)),
            "form": form,
        },
    )


@login_required
@require_POST
def friend_respond(request, pk: int):
    customer = customer_for_user(user=request.user)
    connection = get_object_or_404(Connection, pk=pk, addressee=customer)
    accept = request.POST.get("answer") == "accept"
    try:
        connection_respond(connection=connection, by=customer, accept=accept)
    except FriendsListError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Request confirmed.") if accept else _("Request declined."))
    return redirect("customers:friends")


@login_required
def friend_remove(request, pk: int):
    """Removing a friend cannot be undone, so the list links here and this page asks first."""
    customer = customer_for_user(user=request.user)
    connection = get_object_or_404(
        Connection.objects.filter(requester=customer)
        | Connection.objects.filter(addressee=customer),
        pk=pk,
    )
    if request.method != "POST":
        return render(
            request,
            "customers/friend_remove.html",
            {"connection": connection, "friend": connection.other(customer)},
        )
    connection_remove(connection=connection, by=customer)
    messages.success(request, _("Removed from your list."))
    return redirect("customers:friends")


@login_required
def notices(request):
    """The notification centre: newest first, each linking to the page it is about."""
    customer = customer_for_user(user=request.user)
    asked = request.GET.get("page", "")
    return render(
        request,
        "customers/notices.html",
        {
            # The list is cached under the version of the customer's notices; the page of
            # notices is read only to build it afresh.
            "customer": customer,
            "notices_version": notices_version(customer),
            "notices_seconds": NOTICES_FRAGMENT_SECONDS,
            "page_asked": asked[:12],
            "page": SimpleLazyObject(
                lambda: Paginator(customer_notices(customer=customer), PAGE_SIZE).get_page(asked)
            ),
            "has_unread": unread_notice_count(user=request.user) > 0,
        },
    )


@login_required
@require_POST
def notice_read(request, pk: int):
    customer = customer_for_user(user=request.user)
    # Someone else's notice does not exist for this customer.
    get_object_or_404(Notice, pk=pk, customer=customer)
    notice_mark_read(customer=customer, notice_id=pk)
    return redirect(_notices_page(request))


@login_required
@require_POST
def notices_read_all(request):
    customer = customer_for_user(user=request.user)
    notices_mark_all_read(customer=customer)
    messages.success(request, _("All notifications are marked as read."))
    return redirect(_notices_page(request))


def _notices_page(request) -> str:
    """Back to the page of the list the customer was on."""
    page = request.POST.get("page", "")
    url = reverse("customers:notices")
    return f"{url}?page={page}" if page.isdigit() else url


@login_required
def data(request):
    """What we hold about you: exports with their progress, and leaving for good."""
    customer = customer_for_user(user=request.user)
    if request.method == "POST":
        data_export_request(customer=customer, source=DataExport.Source.CUSTOMER)
        messages.success(request, _("We are preparing your data. We'll email you when it's ready."))
        return redirect("customers:data")
    exports = customer.data_exports.all()[:5]
    return render(
        request,
        "customers/data.html",
        {
            "customer": customer,
            "exports": exports,
            "in_progress": any(export.status in ("queued", "building") for export in exports),
        },
    )


@login_required
def data_download(request, public_id):
    export = get_object_or_404(
        DataExport, public_id=public_id, customer__user=request.user, status=DataExport.Status.READY
    )
    if not export.archive or not export.archive.storage.exists(export.archive.name):
        raise Http404
    return FileResponse(
        export.archive.open("rb"),
        as_attachment=True,
        filename=f"kindred-data-{export.created_at:%Y-%m-%d}.zip",
    )


@login_required
def account_delete(request):
    customer = customer_for_user(user=request.user)
    form = AccountDeleteForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        customer_erase(customer=customer, source="customer")
        logout(request)
        messages.success(request, _("Your account and your personal data have been deleted."))
        return redirect("home")
    return render(request, "customers/account_delete.html", {"form": form})


@csrf_exempt
def unsubscribe(request, token: str):
    """One-click unsubscribe: a mail client POSTs here (RFC 8058); a person confirms first."""
    found = unsubscribe_token_read(token)
    if found is None:
        return render(request, "customers/unsubscribe.html", {"invalid": True}, status=404)
    customer, topic = found
    if request.method == "POST":
        consent_set(
            customer=customer, topic=topic, granted=False, source=ConsentRecord.Source.UNSUBSCRIBE
        )
        if request.POST.get("List-Unsubscribe") == "One-Click":
            return HttpResponse(status=200)
        return render(request, "customers/unsubscribe.html", {"done": True, "topic": topic})
    return render(request, "customers/unsubscribe.html", {"topic": topic})


@require_POST
def language_switch(request: HttpRequest):
    """Django's set_language (the cookie and the redirect), and a signed-in customer's
    profile: the switcher is how most customers will choose, so it must stick."""
    response = set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in Customer.Language.values:
        customer_language_set(user=request.user, language=language)
        session_language_set(request, language)
    return response
