"""The admin opens only for staff who proved a second factor, and closes when left alone;
second factors are changed only by a session that used one.

A staff member can issue points, export and erase customers, so a password is not
enough: every request under /admin/ from a staff member needs a second factor set up
(else they are sent to set one up) and used in this session (else they are asked for a
code or their security key, which also covers a login through the admin's own password
form, which knows nothing of allauth's second step). Recovery codes alone do not count:
allauth keeps them only beside an authenticator app or a key.

A session that has not used its second factor cannot change second factors either (nor
see the recovery codes): the admin's password form makes such sessions, and from one a
password thief could otherwise add a key of their own, or read a recovery code, and then
pass the check above. Everyone is held to this, not only staff.

An admin session with no admin request for ADMIN_SESSION_IDLE_MINUTES ends: an
unlocked staff laptop must not stay an open door.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from allauth.account.authentication import get_authentication_records
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext as _

ADMIN_PREFIX = "/admin/"
SECOND_FACTOR_PREFIX = "/accounts/2fa/"
# The pages where a second factor is used rather than changed.
SECOND_FACTOR_USE = ("mfa_authenticate", "mfa_reauthenticate", "mfa_reauthenticate_webauthn")
LAST_ACTIVITY_SESSION_KEY = "admin_last_activity"
SECOND_FACTORS = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)


def second_factor_types(user) -> set[str]:
    return set(
        Authenticator.objects.filter(user=user, type__in=SECOND_FACTORS).values_list(
            "type", flat=True
        )
    )


def used_second_factor(request: HttpRequest) -> bool:
    """allauth records each way the session proved who it is; "mfa" is a code or a key."""
    records = get_authentication_records(request, request.user)
    return any(record.get("method") == "mfa" for record in records)


def _ask_for_second_factor(request: HttpRequest, types: set[str]) -> HttpResponse:
    # A key holder with no authenticator app is asked for the key, not for a code.
    name = (
        "mfa_reauthenticate" if Authenticator.Type.TOTP in types else "mfa_reauthenticate_webauthn"
    )
    return redirect_to_login(request.get_full_path(), reverse(name))


class SecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        if request.path.startswith(ADMIN_PREFIX) and user.is_staff:
            return self.guard(request) or self.get_response(request)
        if request.path.startswith(SECOND_FACTOR_PREFIX):
            return self.guard_second_factors(request) or self.get_response(request)
        return self.get_response(request)

    def guard_second_factors(self, request: HttpRequest) -> HttpResponse | None:
        try:
            if resolve(request.path_info).url_name in SECOND_FACTOR_USE:
                return None
        except Resolver404:
            return None
        types = second_factor_types(request.user)
        if types and not used_second_factor(request):
            return _ask_for_second_factor(request, types)
        return None

    def guard(self, request: HttpRequest) -> HttpResponse | None:
        now = int(time.time())
        last = request.session.get(LAST_ACTIVITY_SESSION_KEY)
        if last is not None and now - last > settings.ADMIN_SESSION_IDLE_MINUTES * 60:
            logout(request)
            messages.info(request, _("Your admin session ended after a while without activity."))
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        request.session[LAST_ACTIVITY_SESSION_KEY] = now
        if request.path == reverse("admin:logout"):
            return None
        types = second_factor_types(request.user)
        if not types:
            messages.warning(request, _("Set up a second factor before opening the staff admin."))
            return HttpResponseRedirect(reverse("mfa_index"))
        if not used_second_factor(request):
            messages.info(
                request, _("Confirm it is you with your second factor to open the staff admin.")
            )
            return _ask_for_second_factor(request, types)
        return None
