"""OpenAPI additions: the API-key scheme, the Idempotency-Key header and error responses."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse

from partners.idempotency import HEADER, KEY_PATTERN
from partners.serializers import ErrorSerializer


class PartnerKeyScheme(OpenApiAuthenticationExtension):
    target_class = "partners.authentication.PartnerKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Authorization: Api-Key <key>` (create keys in the admin or with "
            "`manage.py create_partner`).",
        }


IDEMPOTENCY_KEY = OpenApiParameter(
    HEADER,
    str,
    OpenApiParameter.HEADER,
    required=True,
    pattern=KEY_PATTERN.pattern,
    description="1 to 255 printable characters; a retry with the same key, path and body "
    "replays the first response (header `Idempotent-Replayed: true`).",
)


def error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


COMMON_ERRORS = {
    401: error("Missing or wrong API key (`not_authenticated`, `authentication_failed`)."),
    429: error("Too many requests for this key (`throttled`); see Retry-After."),
}
NOT_FOUND = {404: error("Unknown, or not visible to this partner (`not_found`).")}
BAD_QUERY = {400: OpenApiResponse(description="Invalid query parameters: a map of field errors.")}
LIST_ERRORS = {**COMMON_ERRORS, **BAD_QUERY, 404: error("No such page (`not_found`).")}
POST_ERRORS = {
    **COMMON_ERRORS,
    400: OpenApiResponse(
        description="A map of field errors; or `idempotency_key_required`, `parse_error`."
    ),
    409: error("`request_in_progress`: the first request with this key is still running."),
    413: error("`request_too_large`."),
    422: error("`idempotency_key_reused`: same key, different path or body."),
}


LINK_PENDING = {
    409: error(
        "`link_pending`: the person has not said yes to this merchant yet; "
        "or `request_in_progress` (POST)."
    )
}


CUSTOMER_EXAMPLES = [
    OpenApiExample(
        "New customer, referred by a friend",
        request_only=True,
        value={"external_id": "shop-123", "email": "anna@example.com", "first_name": "Anna",
               "last_name": "Kim", "referral_code": "K7Q2MX9D"},
    ),
    OpenApiExample(
        "Customer",
        response_only=True,
        status_codes=["201", "200"],
        value={"id": "3f2c8a4e-8d1b-4c55-9a61-2b7f0c9e4d10", "external_id": "shop-123",
               "email": "anna@example.com", "first_name": "Anna", "last_name": "Kim",
               "referral_code": "P4WZ8KQ2", "referral_url": "https://kindred.example/r/P4WZ8KQ2/",
               "referred_by": "K7Q2MX9D", "tier": "Bronze",
               "points": {"balance": 0, "pending": 0}, "link": "active",
               "created_at": "2026-11-25T15:00:00Z"},
    ),
    OpenApiExample(
        "A merchant's pending link",
        response_only=True,
        status_codes=["202"],
        value={"id": "3f2c8a4e-8d1b-4c55-9a61-2b7f0c9e4d10", "external_id": "shop-123",
               "link": "pending"},
    ),
]  # fmt: skip
CONVERSION_EXAMPLES = [
    OpenApiExample(
        "Purchase",
        request_only=True,
        value={"customer": "3f2c8a4e-8d1b-4c55-9a61-2b7f0c9e4d10", "order_id": "A-1001",
               "amount": "120.00", "currency": "EUR"},
    ),
    OpenApiExample(
        "First purchase of a referred friend",
        response_only=True,
        status_codes=["201"],
        value={"id": "0b9e7f64-1c3a-4f0e-8a59-6f1d2e3c4b5a",
               "customer": "3f2c8a4e-8d1b-4c55-9a61-2b7f0c9e4d10", "order_id": "A-1001",
               "amount": "120.00", "currency": "EUR", "status": "recorded",
               "points_earned": 120,
               "referral_reward": {"referrer": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
                                   "points": 500, "status": "pending",
                                   "settles_at": "2026-12-09T15:00:00Z"},
               "created_at": "2026-11-25T15:00:00Z"},
    ),
]  # fmt: skip
