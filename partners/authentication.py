"""API-key authentication and per-key throttling for partner sites."""

from __future__ import annotations

import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import caches
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.throttling import SimpleRateThrottle

from core.cache import cache_count
from core.process_cache import forget
from partners.models import Partner, PartnerAPIKey

KEYWORD = "Api-Key"

# `last_used_at` is for staff ("is this key still in use?"): a write per minute
# per key is enough, and keeps every request from updating a hot row.
LAST_USED_RESOLUTION = timedelta(minutes=1)

# A key's row (with its partner) is kept for a few seconds in each server process, so most
# requests find it without any round trip (the secret is still checked against its hash
# every time). Revoking a key or deactivating a partner holds at once in the process that
# saved it and within this many seconds in every other.
KEY_CACHE_SECONDS = 10


def api_key_cache_key(prefix: str) -> str:
    return f"partners:api-key:{prefix}"


def _forget(prefixes: list[str]) -> None:
    forget([api_key_cache_key(prefix) for prefix in prefixes])


@receiver([post_save, post_delete], sender=PartnerAPIKey, dispatch_uid="partners.key_changed")
def _key_changed(sender, instance: PartnerAPIKey, **kwargs) -> None:
    _forget([instance.prefix])


@receiver([post_save, post_delete], sender=Partner, dispatch_uid="partners.partner_changed")
def _partner_changed(sender, instance: Partner, **kwargs) -> None:
    _forget(
        list(PartnerAPIKey.objects.filter(partner_id=instance.pk).values_list("prefix", flat=True))
    )


class PartnerPrincipal:
    """`request.user` of an API request: the partner, authenticated by one of its keys."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, partner: Partner):
        self.partner = partner

    def __str__(self) -> str:
        return str(self.partner)


class PartnerKeyAuthentication(BaseAuthentication):
    """`Authorization: Api-Key <key>`; a missing, wrong, revoked or expired key answers 401."""

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        keyword, _space, key = header.partition(" ")
        if keyword != KEYWORD or not key.strip():
            raise exceptions.AuthenticationFailed(
                _("Use the header: Authorization: Api-Key <key>.")
            )
        api_key = self._usable_key(key.strip())
        now = timezone.now()
        if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
            PartnerAPIKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
            api_key.last_used_at = now
            caches["local"].set(api_key_cache_key(api_key.prefix), api_key, KEY_CACHE_SECONDS)
        return PartnerPrincipal(api_key.partner), api_key

    @staticmethod
    def _usable_key(key: str) -> PartnerAPIKey:
        """The key's row, from this process's cache or the database; the secret is checked
        against its hash on every request either way. Unknown prefixes are not cached."""
        prefix, _dot, _secret = key.partition(".")
        api_key = caches["local"].get(api_key_cache_key(prefix))
        if api_key is None:
            api_key = (
                PartnerAPIKey.objects.select_related("partner")
                .filter(prefix=prefix, revoked=False, partner__active=True)
                .first()
            )
            if api_key is not None:
                caches["local"].set(api_key_cache_key(prefix), api_key, KEY_CACHE_SECONDS)
        if api_key is None or api_key.has_expired or not api_key.is_valid(key):
            raise exceptions.AuthenticationFailed(_("Invalid API key."))
        return api_key

    def authenticate_header(self, request) -> str:
        return KEYWORD


class IsPartner(BasePermission):
    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, PartnerAPIKey)


class PartnerKeyThrottle(SimpleRateThrottle):
    """Requests per API key, at `PARTNER_API_RATE` (read per request so tests can change it).

    A fixed window counted with one atomic increment, instead of DRF's sliding window,
    which reads and rewrites the list of every request's time in the window on each
    request. The price: a key may send up to twice the rate across a window's edge.
    """

    scope = "partner"

    def __init__(self):
        self.retry_after: float | None = None

    def get_rate(self) -> str:
        return settings.PARTNER_API_RATE

    def allow_request(self, request, view) -> bool:
        if not isinstance(request.auth, PartnerAPIKey):
            return True
        limit, period = self.parse_rate(self.get_rate())
        now = time.time()
        window = int(now // period)
        key = self.cache_format % {"scope": self.scope, "ident": f"{request.auth.prefix}:{window}"}
        if cache_count(key, period) <= limit:
            return True
        self.retry_after = (window + 1) * period - now
        return False

    def wait(self) -> float | None:
        return self.retry_after
