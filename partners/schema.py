"""OpenAPI additions: the API-key scheme, the Idempotency-Key header and error responses."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

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
