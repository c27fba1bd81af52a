"""Brute-force guard for the Django admin's login form.

The portal login is rate limited by allauth; the admin's own form is not, so
every POST to it spends from the same "login_failed" budget (per IP and per
address, ACCOUNT_RATE_LIMITS), and an attacker cannot double their guesses by
switching between the two forms. The key is allauth's own (its adapter's), so a
successful password reset, which clears the portal's count, clears this one too.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from allauth.account.adapter import get_adapter
from allauth.core import ratelimit
from django.http import HttpRequest, HttpResponse


def admin_login_guard(login: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(login)
    def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method == "POST":
            key = get_adapter(request)._get_login_attempts_cache_key(
                request, username=request.POST.get("username", "").strip()
            )
            if not ratelimit.consume(request, action="login_failed", key=key):
                return ratelimit.respond_429(request)
        return login(request, *args, **kwargs)

    return guarded
