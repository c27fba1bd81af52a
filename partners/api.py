"""The base of every partner API view: key auth, throttling, body limit, pagination, idempotency."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ParseError
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer

from partners.authentication import IsPartner, PartnerKeyAuthentication, PartnerKeyThrottle
from partners.errors import RequestTooLarge
from partners.idempotency import IdempotentPostMixin
from partners.models import Partner


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_paginated_response_schema(self, schema: dict) -> dict:
        """Every page has all four keys; `next` and `previous` are URLs or null (OpenAPI
        3.1's form of null, which strict validators and generated clients read)."""
        link = {"type": ["string", "null"], "format": "uri"}
        return {
            "type": "object",
            "required": ["count", "next", "previous", "results"],
            "properties": {
                "count": {"type": "integer", "example": 123},
                "next": {**link, "example": f"{settings.SITE_URL}/api/v1/customers/?page=3"},
                "previous": {**link, "example": f"{settings.SITE_URL}/api/v1/customers/?page=1"},
                "results": schema,
            },
        }


# No request of the contract nests deeper than a few levels.
MAX_JSON_DEPTH = 32


def _too_deep(value) -> bool:
    """Walk the parsed body without recursion (it may be nested nearly a thousand deep)."""
    level, current = 1, [value]
    while current:
        children = []
        for item in current:
            if isinstance(item, dict):
                children.extend(item.values())
            elif isinstance(item, list):
                children.extend(item)
        if children and level == MAX_JSON_DEPTH:
            return True
        level, current = level + 1, children
    return False


class BoundedJSONParser(JSONParser):
    """JSON with a nesting limit: Python's decoder recurses, and a body of 20,000 brackets
    (40 KB, under the size limit) would otherwise end in a RecursionError, a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        too_deep = ParseError(
            _("JSON nested deeper than %(depth)d levels.") % {"depth": MAX_JSON_DEPTH}
        )
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise too_deep from None
        if _too_deep(data):
            raise too_deep
        return data


class BodyLimitMixin:
    """Refuse bodies over PARTNER_API_MAX_BODY_BYTES with 413 before anything reads them."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        limit = settings.PARTNER_API_MAX_BODY_BYTES
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit or len(request.body) > limit:
            raise RequestTooLarge()


class PartnerAPIView(IdempotentPostMixin, BodyLimitMixin, GenericAPIView):
    authentication_classes = [PartnerKeyAuthentication]
    permission_classes = [IsPartner]
    throttle_classes = [PartnerKeyThrottle]
    pagination_class = Pagination
    parser_classes = [BoundedJSONParser]
    renderer_classes = [JSONRenderer]

    @property
    def partner(self) -> Partner:
        return self.request.user.partner
