"""Partner API views: parse input, call one service or selector, render the result."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from customers.conversions import DuplicateOrder
from loyalty.earning import UnknownCurrency
from loyalty.selectors import customer_history
from partners import services
from partners.api import PartnerAPIView
from partners.errors import Conflict
from partners.schema import COMMON_ERRORS, IDEMPOTENCY_KEY, NOT_FOUND, POST_ERRORS, error
from partners.selectors import partner_conversions, partner_customers
from partners.serializers import (
    ConversionInSerializer,
    ConversionSerializer,
    CustomerInSerializer,
    CustomerLookupSerializer,
    CustomerSerializer,
    PointsAwardSerializer,
    ReferralCodeSerializer,
    RefundInSerializer,
    TransactionSerializer,
)
from referrals.selectors import friend_offer, referrer_by_code
from referrals.services import UnknownReferralCode


class CustomerScopedView(PartnerAPIView):
    """A view about one customer, who must be linked to the partner asking."""

    lookup_field = "public_id"
    lookup_url_kwarg = "customer_id"

    def get_queryset(self):
        return partner_customers(partner=self.partner)


class CustomerListView(CustomerScopedView):
    serializer_class = CustomerSerializer

    @extend_schema(
        operation_id="customers_list",
        parameters=[CustomerLookupSerializer],
        responses={200: CustomerSerializer(many=True), **COMMON_ERRORS},
    )
    def get(self, request):
        """Customers linked to this partner; `email` or `external_id` look one up."""
        lookup = CustomerLookupSerializer(data=request.query_params)
        lookup.is_valid(raise_exception=True)
        customers = self.get_queryset()
        if "email" in lookup.validated_data:
            customers = customers.filter(user__email__iexact=lookup.validated_data["email"])
        if "external_id" in lookup.validated_data:
            customers = customers.filter(
                partner_links__external_id=lookup.validated_data["external_id"]
            )
        page = self.paginate_queryset(customers)
        return self.get_paginated_response(CustomerSerializer(page, many=True).data)

    @extend_schema(
        operation_id="customers_create",
        request=CustomerInSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: OpenApiResponse(CustomerSerializer, description="A new customer was created."),
            200: OpenApiResponse(
                CustomerSerializer, description="The email's customer was linked instead."
            ),
            400: OpenApiResponse(description="Field errors, e.g. an unknown `referral_code`."),
            **POST_ERRORS,
        },
    )
    def post(self, request):
        """Create a customer, or link the existing customer with this email."""
        given = CustomerInSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        try:
            customer, created = services.partner_customer_upsert(
                partner=self.partner,
                external_id=data["external_id"],
                email=data["email"],
                first_name=data.get("first_name", ""),
                last_name=data.get("last_name", ""),
                referral_code=data.get("referral_code") or "",
            )
        except UnknownReferralCode:
            raise serializers.ValidationError(
                {"referral_code": ["No customer has this referral code."]}
            ) from None
        except services.ExternalIdTaken as taken:
            raise Conflict(
                "This external_id belongs to another of your customers.", code=taken.code
            ) from None
        customer = self.get_queryset().get(pk=customer.pk)
        return Response(
            CustomerSerializer(customer).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class CustomerDetailView(CustomerScopedView):
    serializer_class = CustomerSerializer

    @extend_schema(responses={200: CustomerSerializer, **NOT_FOUND, **COMMON_ERRORS})
    def get(self, request, customer_id):
        return Response(CustomerSerializer(self.get_object()).data)


class CustomerTransactionsView(CustomerScopedView):
    serializer_class = TransactionSerializer

    @extend_schema(responses={200: TransactionSerializer(many=True), **NOT_FOUND, **COMMON_ERRORS})
    def get(self, request, customer_id):
        """The customer's ledger history, newest first."""
        page = self.paginate_queryset(customer_history(customer=self.get_object()))
        return self.get_paginated_response(TransactionSerializer(page, many=True).data)


class CustomerPointsView(CustomerScopedView):
    serializer_class = PointsAwardSerializer

    @extend_schema(
        request=PointsAwardSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: TransactionSerializer, **NOT_FOUND, **POST_ERRORS},
    )
    def post(self, request, customer_id):
        """Award points to the customer, posted at once."""
        customer = self.get_object()
        given = PointsAwardSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        transaction = services.partner_points_award(
            partner=self.partner, customer=customer, **given.validated_data
        )
        entry = transaction.entries.get(account__customer=customer)
        return Response(TransactionSerializer(entry).data, status=status.HTTP_201_CREATED)


class ReferralCodeView(PartnerAPIView):
    serializer_class = ReferralCodeSerializer

    @extend_schema(responses={200: ReferralCodeSerializer, **NOT_FOUND, **COMMON_ERRORS})
    def get(self, request, code):
        """Who a referral code belongs to (first name only) and the friend's offer."""
        referrer = referrer_by_code(code=code)
        if referrer is None:
            raise Http404
        return Response(
            ReferralCodeSerializer(
                {
                    "code": referrer.referral_code,
                    "referrer": {"first_name": referrer.first_name},
                    "offer": friend_offer(),
                }
            ).data
        )


class ConversionListView(PartnerAPIView):
    serializer_class = ConversionInSerializer

    @extend_schema(
        request=ConversionInSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: ConversionSerializer,
            400: OpenApiResponse(description="Field errors: amount, currency, customer."),
            **POST_ERRORS,
            409: error("`duplicate_order` (this order was reported before) or "
                       "`request_in_progress`."),
        },
    )  # fmt: skip
    def post(self, request):
        """Report a purchase: it earns points and may qualify the buyer's referral."""
        given = ConversionInSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        customer = partner_customers(partner=self.partner).filter(public_id=data["customer"])
        if not customer:
            raise serializers.ValidationError({"customer": ["Unknown customer."]})
        try:
            outcome = services.partner_conversion_record(
                partner=self.partner,
                customer=customer[0],
                order_id=data["order_id"],
                amount=data["amount"],
                currency=data["currency"].upper(),
                occurred_at=data.get("occurred_at"),
            )
        except DuplicateOrder:
            raise Conflict("This order was reported before.", code="duplicate_order") from None
        except UnknownCurrency as unknown:
            raise serializers.ValidationError({"currency": [str(unknown)]}) from None
        return Response(ConversionSerializer(outcome).data, status=status.HTTP_201_CREATED)


class ConversionRefundView(PartnerAPIView):
    serializer_class = RefundInSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "conversion_id"

    def get_queryset(self):
        return partner_conversions(partner=self.partner)

    @extend_schema(
        request=RefundInSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            200: ConversionSerializer,
            400: OpenApiResponse(description="`amount` is more than what is left to refund."),
            **NOT_FOUND,
            **POST_ERRORS,
        },
    )
    def post(self, request, conversion_id):
        """Refund all or part of a purchase; its rewards are voided or reversed."""
        conversion = self.get_object()
        if conversion.status == conversion.Status.REFUNDED:
            raise Conflict("This purchase is refunded already.", code="already_refunded")
        given = RefundInSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            outcome = services.partner_conversion_refund(
                conversion=conversion, amount=given.validated_data.get("amount")
            )
        except services.RefundNotPossible as refused:
            raise serializers.ValidationError({"amount": [str(refused)]}) from None
        return Response(ConversionSerializer(outcome).data)
