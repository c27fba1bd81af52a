"""API-key authentication and per-key throttling for partner sites."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.throttling import SimpleRateThrottle

from partners.models import Partner, PartnerAPIKey

KEYWORD = "Api-Key"

# `last_used_at` is for staff ("is this key still in use?"): a write per minute
# per key is enough, and keeps every request from updating a hot row.
LAST_USED_RESOLUTION = timedelta(minutes=1)


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
        return PartnerPrincipal(api_key.partner), api_key

    @staticmethod
    def _usable_key(key: str) -> PartnerAPIKey:
        prefix, _dot, _secret = key.partition(".")
        api_key = (
            PartnerAPIKey.objects.select_related("partner")
            .filter(prefix=prefix, revoked=False, partner__active=True)
            .first()
        )
        if api_key is None or api_key.has_expired or not api_key.is_valid(key):
            raise exceptions.AuthenticationFailed(_("Invalid API key."))
        return api_key

    def authenticate_header(self, request) -> str:
        return KEYWORD


class IsPartner(BasePermission):
    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, PartnerAPIKey)


class PartnerKeyThrottle(SimpleRateThrottle):
    """Requests per API key, at `PARTNER_API_RATE` (read per request so tests can change it)."""

    scope = "partner"

    def get_rate(self) -> str:
        return settings.PARTNER_API_RATE

    def get_cache_key(self, request, view) -> str | None:
        if not isinstance(request.auth, PartnerAPIKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.prefix}
