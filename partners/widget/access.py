"""Who may call the widget's endpoints: a known publishable key, from one of its partner's
allowed origins (CORS). No cookie is read or set; the customer token authenticates."""

from __future__ import annotations

from core.process_cache import cached_rows
from partners.models import Partner

# A rotated or revoked key stops working within this many seconds in every process.
KEY_CACHE_SECONDS = 10


def partner_by_publishable_key(key: str) -> Partner | None:
    """The active partner whose publishable key this is; read once per process briefly,
    since every page view of the shop asks."""
    if not key or not key.startswith("pk_") or len(key) > 64:
        return None
    partner = cached_rows(
        f"widget:key:{key}",
        lambda: Partner.objects.filter(publishable_key=key).first() or False,
        seconds=KEY_CACHE_SECONDS,
    )
    return partner if partner and partner.active else None


def origin_allowed(partner: Partner, origin: str | None) -> bool:
    return bool(origin) and origin.rstrip("/") in partner.widget_origin_list


def cors_headers(origin: str) -> dict[str, str]:
    """The answer a browser needs to hand the response to the shop's page: that origin
    only, never credentials (no cookie is sent or wanted)."""
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type",
        "Access-Control-Max-Age": "3600",
    }
