"""The base of every partner API view: key auth, throttling, body limit, pagination, idempotency."""

from __future__ import annotations

from django.conf import settings
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
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]

    @property
    def partner(self) -> Partner:
        return self.request.user.partner
