"""OpenAPI additions: the API-key scheme, the headers, error responses and the webhooks.

Every operation lists its error answers with `error_responses(...)`, naming the machine
codes it can answer with (`ERROR_CODES`); the answers every request or every POST can
give are added by `ANY_REQUEST` and `ANY_POST`.
"""

from __future__ import annotations

import inspect
from collections import defaultdict
from dataclasses import dataclass

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerExtension
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    OpenApiWebhook,
    PolymorphicProxySerializer,
    extend_schema,
)

from partners.idempotency import HEADER, KEY_PATTERN, REPLAYED_HEADER
from partners.serializers import (
    CustomerLinkedEventSerializer,
    CustomerLinkEndedEventSerializer,
    CustomerSerializer,
    ErrorSerializer,
    FieldErrorsSerializer,
    PendingCustomerSerializer,
    ReferralQualifiedEventSerializer,
    ReviewPublishedEventSerializer,
    RewardReversedEventSerializer,
    RewardSettledEventSerializer,
    RewardVoidedEventSerializer,
    VoucherIssuedEventSerializer,
)


class PartnerKeyScheme(OpenApiAuthenticationExtension):
    target_class = "partners.authentication.PartnerKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Authorization: Api-Key <key>`. The staff of the business create "
            "keys for you; a key is shown once.",
        }


class FieldErrorsScheme(OpenApiSerializerExtension):
    target_class = FieldErrorsSerializer

    def map_serializer(self, auto_schema, direction):
        return {
            "type": "object",
            "description": inspect.cleandoc(FieldErrorsSerializer.__doc__ or ""),
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "example": {"email": ["Enter a valid email address."]},
        }


@dataclass(frozen=True)
class ErrorCode:
    status: int
    when: str
    detail: str


ERROR_CODES: dict[str, ErrorCode] = {
    "idempotency_key_required": ErrorCode(
        400, "a POST without a valid Idempotency-Key header",
        "An Idempotency-Key header of 1 to 255 printable characters is required.",
    ),
    "parse_error": ErrorCode(
        400, "malformed JSON, or JSON nested too deep", "JSON parse error."
    ),
    "not_authenticated": ErrorCode(
        401, "no Authorization header", "Authentication credentials were not provided."
    ),
    "authentication_failed": ErrorCode(
        401, "a wrong, revoked or expired key, or another scheme than Api-Key",
        "Invalid API key.",
    ),
    "not_found": ErrorCode(
        404, "unknown, not visible to you, or a page past the end", "Not found."
    ),
    "request_in_progress": ErrorCode(
        409, "the first request with this Idempotency-Key is still running",
        "A request with this Idempotency-Key is still running; retry later.",
    ),
    "link_pending": ErrorCode(
        409, "the person has not said yes to this merchant yet",
        "The person has not agreed to the link yet.",
    ),
    "external_id_taken": ErrorCode(
        409, "the external_id belongs to another of your customers",
        "This external_id belongs to another of your customers.",
    ),
    "duplicate_order": ErrorCode(
        409, "this order_id was reported before", "This order was reported before."
    ),
    "already_refunded": ErrorCode(
        409, "the purchase is fully refunded", "This purchase is refunded already."
    ),
    "insufficient_points": ErrorCode(
        409, "the customer's settled points do not cover the reward", "Not enough points."
    ),
    "reward_unavailable": ErrorCode(
        409, "the reward is inactive, outside its dates or out of stock",
        "This reward is not available.",
    ),
    "voucher_used": ErrorCode(409, "the voucher was used", "This voucher was used already."),
    "voucher_expired": ErrorCode(409, "the voucher has expired", "This voucher has expired."),
    "voucher_void": ErrorCode(409, "the voucher was voided", "This voucher is void."),
    "staff_account": ErrorCode(
        409, "a staff member's account is never erased through the API",
        "A staff member's account is never erased through the API.",
    ),
    "request_too_large": ErrorCode(
        413, "the body is larger than the limit (64 KiB)", "The request body is too large."
    ),
    "unsupported_media_type": ErrorCode(
        415, "the body is not application/json", 'Unsupported media type "text/plain".'
    ),
    "idempotency_key_reused": ErrorCode(
        422, "the same Idempotency-Key with another path or body",
        "This Idempotency-Key was used with a different path or body.",
    ),
    "throttled": ErrorCode(
        429, "too many requests for this key; wait Retry-After seconds",
        "Request was throttled.",
    ),
    "database_busy": ErrorCode(
        503, "the database was too busy; nothing was changed; retry after Retry-After",
        "The service is busy; nothing was changed. Retry in a moment.",
    ),
}  # fmt: skip

ANY_REQUEST = ("not_authenticated", "authentication_failed", "throttled", "database_busy")
ANY_POST = (
    *ANY_REQUEST,
    "idempotency_key_required",
    "parse_error",
    "request_in_progress",
    "request_too_large",
    "unsupported_media_type",
    "idempotency_key_reused",
)

CUSTOMER_OR_PENDING = PolymorphicProxySerializer(
    component_name="CustomerOrPending",
    serializers=[CustomerSerializer, PendingCustomerSerializer],
    resource_type_field_name=None,
)
CUSTOMERS_OR_PENDING = PolymorphicProxySerializer(
    component_name="CustomerOrPending",
    serializers=[CustomerSerializer, PendingCustomerSerializer],
    resource_type_field_name=None,
    many=True,
)
BAD_REQUEST = PolymorphicProxySerializer(
    component_name="BadRequest",
    serializers=[FieldErrorsSerializer, ErrorSerializer],
    resource_type_field_name=None,
)


def error_responses(*codes: str, fields: str = "") -> dict[int, OpenApiResponse]:
    """The error answers of one operation, grouped by status, each code an example.

    `fields` says which invalid fields (or query parameters) answer 400 with a map of
    field errors; without it, a 400 carries only the codes given.
    """
    by_status: dict[int, list[str]] = defaultdict(list)
    for code in codes:
        by_status[ERROR_CODES[code].status].append(code)
    if fields:
        by_status.setdefault(400, [])
    responses = {}
    for status, status_codes in sorted(by_status.items()):
        lines = [f"`{code}`: {ERROR_CODES[code].when}." for code in status_codes]
        examples = [
            OpenApiExample(code, value={"detail": ERROR_CODES[code].detail, "code": code})
            for code in status_codes
        ]
        if status == 400 and fields:
            lines.insert(0, f"A map of field errors: {fields}.")
            examples.insert(
                0, OpenApiExample("field errors", value={"field": ["What is wrong with it."]})
            )
        responses[status] = OpenApiResponse(
            BAD_REQUEST if status == 400 and fields else ErrorSerializer,
            description="\n\n".join(lines),
            examples=examples,
        )
    return responses


IDEMPOTENCY_KEY = OpenApiParameter(
    HEADER,
    str,
    OpenApiParameter.HEADER,
    required=True,
    pattern=KEY_PATTERN.pattern,
    description="1 to 255 printable characters; a retry with the same key, path and JSON "
    "body (compared parsed: key order and spacing do not matter) replays the first answer.",
)
IDEMPOTENT_REPLAYED = OpenApiParameter(
    REPLAYED_HEADER,
    str,
    OpenApiParameter.HEADER,
    enum=["true"],
    response=[200, 201, 202, 400, 404, 409, 415],
    description="`true` when this answer is the stored answer to an earlier request with the "
    "same Idempotency-Key; absent otherwise.",
)
RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    int,
    OpenApiParameter.HEADER,
    response=[429, 503],
    description="Seconds to wait before sending again.",
)
GET_HEADERS = [RETRY_AFTER]
POST_HEADERS = [IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED, RETRY_AFTER]


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
               "created_at": "2026-11-25T15:00:00.000000Z"},
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
                                   "settles_at": "2026-12-09T15:00:00.000000Z"},
               "created_at": "2026-11-25T15:00:00.000000Z"},
    ),
]  # fmt: skip


def _webhook(event_serializer, summary: str) -> OpenApiWebhook:
    return OpenApiWebhook(
        name=event_serializer.event_type,
        decorator=extend_schema(
            summary=summary,
            description="Sent as a signed `POST` to your webhook URL (header "
            "`Kindred-Signature`). Answer any 2xx quickly; anything else is retried.",
            request=event_serializer,
            responses={200: OpenApiResponse(description="Any 2xx: received.")},
        ),
    )


CUSTOMER_LINKED_WEBHOOK = _webhook(
    CustomerLinkedEventSerializer, "The person said yes to a merchant's link"
)
CUSTOMER_LINK_ENDED_WEBHOOK = _webhook(CustomerLinkEndedEventSerializer, "A merchant's link ended")
REFERRAL_QUALIFIED_WEBHOOK = _webhook(
    ReferralQualifiedEventSerializer, "A purchase qualified a referral"
)
REWARD_SETTLED_WEBHOOK = _webhook(RewardSettledEventSerializer, "Held points settled")
REWARD_VOIDED_WEBHOOK = _webhook(RewardVoidedEventSerializer, "Held points were voided")
REWARD_REVERSED_WEBHOOK = _webhook(
    RewardReversedEventSerializer, "Settled points were taken back (a refund, a correction)"
)
VOUCHER_ISSUED_WEBHOOK = _webhook(VoucherIssuedEventSerializer, "A voucher was issued")
REVIEW_PUBLISHED_WEBHOOK = _webhook(ReviewPublishedEventSerializer, "A review was published")


ENUM_DESCRIPTIONS = {
    "ActiveLink": "The link is active: you see the whole customer.",
    "PendingLink": "The person has not said yes to your (a merchant's) link yet.",
    "CustomerOrPending": "A customer: the whole customer once the link is active; only "
    "`id`, `external_id` and `link` while a merchant's link waits for the person's yes.",
    "VoucherStatus": "Whether the voucher can still be used.",
    "TransactionStatus": "pending: held until it settles; posted; voided.",
    "RewardKind": "What the reward gives.",
    "LinkEndReason": "Why a merchant's link ended.",
    "LanguageEnum": "The customer's language: en, de, fr, or de-ch / fr-ch (Swiss formats).",
    "BlankEnum": "Empty: no language chosen.",
    "BadRequest": "A map of field errors, or an error with a code.",
}


def describe_components(result, generator, request, public):
    """Components drf-spectacular builds itself (enums, pages, the 400 union) describe
    themselves like every other component."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name in ENUM_DESCRIPTIONS:
            component["description"] = ENUM_DESCRIPTIONS[name]
        elif name.startswith("Paginated") and name.endswith("List"):
            item = name.removeprefix("Paginated").removesuffix("List")
            component["description"] = (
                f"A page of {item} objects: `count` in all, `next` and `previous` page URLs."
            )
    return result
