"""The widget's endpoints: the script, the panel (one request), a redemption, a reviews block.

Plain Django views, answering JSON to the partner's allowed origins only. The panel and
the redemption are POSTs of a text/plain JSON body: a "simple" cross-origin request, so
the browser sends no preflight and the panel stays one request. No cookie is read or
set, so there is nothing for CSRF to protect; the customer token authenticates writes.
"""

from __future__ import annotations

import gzip
import json
import uuid
from functools import cache, wraps
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from loyalty.ledger import InsufficientPoints
from loyalty.selectors import active_rewards
from loyalty.vouchers import RewardUnavailable
from partners.widget.access import cors_headers, origin_allowed, partner_by_publishable_key
from partners.widget.panel import panel_data, reviews_block
from partners.widget.services import widget_reward_redeem
from partners.widget.tokens import token_customer
from reviews.models import Subject

SCRIPT = Path(settings.BASE_DIR) / "static" / "widget" / "v1.js"
# The script's address never changes (shops paste it once), so browsers keep it briefly
# and ask again with its ETag: a fix reaches every shop within the hour.
SCRIPT_MAX_AGE = 3600
MAX_BODY_BYTES = 8 * 1024
LANGUAGE_CODES = {code for code, _name in settings.LANGUAGES}


@cache
def _script() -> tuple[bytes, bytes, str]:
    source = SCRIPT.read_bytes()
    etag = f'"{hash(source) & 0xFFFFFFFF:08x}"'
    return source, gzip.compress(source, mtime=0), etag


@require_GET
def script(request: HttpRequest) -> HttpResponse:
    """/widget/v1.js, compressed when the browser takes gzip."""
    source, compressed, etag = _script()
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    elif "gzip" in request.headers.get("Accept-Encoding", ""):
        response = HttpResponse(compressed, content_type="text/javascript; charset=utf-8")
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(source, content_type="text/javascript; charset=utf-8")
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={SCRIPT_MAX_AGE}"
    # Served to every shop's page: any origin may load it, as a script or with fetch.
    response["Access-Control-Allow-Origin"] = "*"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    patch_vary_headers(response, ["Accept-Encoding"])
    return response


def _refuse(status: int, code: str, message: str, **extra) -> JsonResponse:
    return JsonResponse({"error": code, "message": message, **extra}, status=status)


def _language(request: HttpRequest, customer, requested: str) -> str:
    """The customer's own language; for a visitor, the shop page's, then the browser's."""
    for candidate in (getattr(customer, "language", ""), requested):
        if candidate:
            try:
                return translation.get_supported_language_variant(candidate.lower())
            except LookupError:
                continue
    return translation.get_language_from_request(request)


def _allow(response: HttpResponse, origin: str) -> None:
    for name, value in cors_headers(origin).items():
        response[name] = value
    patch_vary_headers(response, ["Origin"])


def widget_endpoint(view):
    """Find the partner by the publishable key (query or body), answer only its allowed
    origins, and hand the view the parsed body."""

    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        origin = request.headers.get("Origin")
        if request.method == "OPTIONS":
            partner = partner_by_publishable_key(request.GET.get("key", ""))
            response = HttpResponse(status=204)
            if partner is not None and origin_allowed(partner, origin):
                _allow(response, origin)
            return response
        body: dict = {}
        if request.method == "POST":
            if len(request.body) > MAX_BODY_BYTES:
                return _refuse(413, "too_large", "The request is too large.")
            try:
                body = json.loads(request.body or b"{}")
            except ValueError:
                return _refuse(400, "bad_json", "The body must be a JSON object.")
            if not isinstance(body, dict):
                return _refuse(400, "bad_json", "The body must be a JSON object.")
        key = body.get("key") or request.GET.get("key", "")
        partner = partner_by_publishable_key(key if isinstance(key, str) else "")
        if partner is None:
            return _refuse(403, "unknown_key", "Unknown or inactive publishable key.")
        if not origin_allowed(partner, origin):
            return _refuse(403, "origin_not_allowed", "This site may not use the widget.")
        response = view(request, partner, body, *args, **kwargs)
        _allow(response, origin)
        return response

    return wrapper


def _text(body: dict, name: str, limit: int = 2000) -> str:
    value = body.get(name)
    return value[:limit] if isinstance(value, str) else ""


@widget_endpoint
def panel(request: HttpRequest, partner, body: dict) -> HttpResponse:
    """Everything the panel shows, in one request."""
    if request.method != "POST":
        return _refuse(405, "method_not_allowed", "POST the panel's request.")
    customer = token_customer(partner=partner, token=_text(body, "token"))
    with translation.override(_language(request, customer, _text(body, "lang", 20))):
        data = panel_data(customer=customer, referral_code=_text(body, "ref", 40))
    return JsonResponse(data)


@widget_endpoint
def redeem(request: HttpRequest, partner, body: dict) -> HttpResponse:
    """A confirmed redemption by the signed-in customer; answers the voucher."""
    if request.method != "POST":
        return _refuse(405, "method_not_allowed", "POST the redemption.")
    customer = token_customer(partner=partner, token=_text(body, "token"))
    if customer is None:
        return _refuse(401, "signed_out", "The customer token is missing, invalid or expired.")
    request_id = _text(body, "request_id", 100)
    if not request_id:
        return _refuse(400, "invalid", "request_id is required.", field="request_id")
    try:
        reward_id = uuid.UUID(_text(body, "reward", 40))
    except ValueError:
        reward = None
    else:
        reward = active_rewards().filter(public_id=reward_id).first()
    with translation.override(_language(request, customer, "")):
        if reward is None:
            return _refuse(400, "invalid", "No such reward in the catalog.", field="reward")
        try:
            redemption = widget_reward_redeem(
                partner=partner, customer=customer, reward=reward, request_id=request_id
            )
        except (InsufficientPoints, RewardUnavailable) as refused:
            return _refuse(409, refused.code, str(refused))
    voucher = redemption.voucher
    return JsonResponse(
        {
            "voucher": {
                "code": voucher.code,
                "reward": reward.name,
                "expires_at": voucher.expires_at.isoformat(),
            }
        },
        status=201,
    )


@widget_endpoint
def reviews(request: HttpRequest, partner, body: dict, slug: str) -> HttpResponse:
    """A subject's reviews block: summary, a page of reviews, structured data."""
    if request.method != "GET":
        return _refuse(405, "method_not_allowed", "GET the reviews block.")
    page = request.GET.get("page", "1")
    if not page.isdigit() or int(page) < 1:
        return _refuse(400, "invalid", "page must be a positive number.", field="page")
    with translation.override(_language(request, None, request.GET.get("lang", "")[:20])):
        try:
            data = reviews_block(subject_slug=slug, page=int(page))
        except Subject.DoesNotExist:
            return _refuse(404, "not_found", "No such subject.")
    response = JsonResponse(data)
    response["Cache-Control"] = "public, max-age=60"
    return response
