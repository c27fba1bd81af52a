"""The referral link as a QR code and as share links; QR images are cached per link, share
links per link, name and language."""

from __future__ import annotations

import functools
import hashlib
import io
from urllib.parse import quote, urlencode

import qrcode
from django.conf import settings
from django.core.cache import cache
from django.utils import translation
from django.utils.translation import gettext as _

QR_CACHE_SECONDS = 7 * 86400


def qr_png(url: str) -> bytes:
    """A PNG of the QR code for `url`, made once and then served from the cache."""
    key = "referrals:qr:" + hashlib.sha256(url.encode()).hexdigest()
    png = cache.get(key)
    if png is None:
        buffer = io.BytesIO()
        qrcode.make(url, box_size=8, border=2).save(buffer)
        png = buffer.getvalue()
        cache.set(key, png, QR_CACHE_SECONDS)
    return png


def _link(base: str, **params: str) -> str:
    return f"{base}?{urlencode(params, quote_via=quote)}"


def share_links(*, url: str, first_name: str) -> tuple[tuple[str, str], ...]:
    """Ready-made links that open email, WhatsApp, X and Facebook with the referral link, in
    the active language (the sender's: they are the one who sends it). Every view of a
    customer's dashboard, invite page and widget shows the same few: each is made once per
    process for its link, name and language."""
    return _share_links(url, first_name, translation.get_language())


@functools.lru_cache(maxsize=4096)
def _share_links(url: str, first_name: str, language: str) -> tuple[tuple[str, str], ...]:
    # `language` is the active one, which gettext reads: it is here to key the cache.
    text = _("%(name)s recommends %(business_name)s: join with my link and get a gift.") % {
        "name": first_name,
        "business_name": settings.BUSINESS_NAME,
    }
    return (
        (_("Email"), _link("mailto:", subject=settings.BUSINESS_NAME, body=f"{text} {url}")),
        ("WhatsApp", _link("https://wa.me/", text=f"{text} {url}")),
        ("X", _link("https://twitter.com/intent/tweet", text=text, url=url)),
        ("Facebook", _link("https://www.facebook.com/sharer/sharer.php", u=url)),
    )
