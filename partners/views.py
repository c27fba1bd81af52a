"""Partner API views: parse input, call one service or selector, render the result."""

from __future__ import annotations

import uuid

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from customers.conversions import DuplicateOrder
from loyalty.earning import UnknownCurrency
from loyalty.ledger import InsufficientPoints
from loyalty.models import Voucher
from loyalty.selectors import active_rewards
from loyalty.vouchers import RewardUnavailable, VoucherError
from partners import services
from partners.api import PartnerAPIView
from partners.errors import Conflict
from partners.idempotency import HEADER
from partners.links import ExternalIdTaken
from partners.models import PartnerCustomer
from partners.schema import (
    ANY_POST,
    ANY_REQUEST,
    CONVERSION_EXAMPLES,
    CUSTOMER_EXAMPLES,
    CUSTOMER_OR_PENDING,
    CUSTOMERS_OR_PENDING,
    GET_HEADERS,
    POST_HEADERS,
    error_responses,
)
from partners.selectors import (
    partner_conversions,
    partner_customer,
    partner_customer_history,
    partner_customers,
    partner_linked_customer,
    partner_voucher,
)
from partners.serializers import (
    ConversionInSerializer,
    ConversionSerializer,
    CustomerInSerializer,
    CustomerLookupSerializer,
    CustomerSerializer,
    DataRequestSerializer,
    PendingCustomerSerializer,
    PointsAwardSerializer,
    QuestionQuerySerializer,
    QuestionSerializer,
    RedactionSerializer,
    RedemptionInSerializer,
    RedemptionSerializer,
    ReferralCodeSerializer,
    RefundInSerializer,
    ReviewQuerySerializer,
    ReviewSerializer,
    ReviewSummaryQuerySerializer,
    ReviewSummarySerializer,
    RewardSerializer,
    TransactionSerializer,
    VoucherSerializer,
    VoucherUseSerializer,
    customer_representation,
)
from referrals.selectors import friend_offer, referrer_by_code
from referrals.services import UnknownReferralCode
from reviews.models import Subject
from reviews.selectors import published_questions, published_reviews, review_summary


def public_id_or_404(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Http404 from None


class PublicIdLookupMixin:
    """Objects found by their public id (a UUID) in the URL; anything else is a 404."""

    lookup_field = "public_id"

    def get_object(self):
        public_id_or_404(self.kwargs[self.lookup_url_kwarg])
        return super().get_object()


def refuse_pending(customer) -> None:
    """A merchant whose link the person has not agreed to sees nothing but the link."""
    if customer.link == PartnerCustomer.Status.PENDING:
        raise Conflict(
            "The person has not agreed to the link yet; only id, external_id and link "
            "are shown until they do.",
            code=services.LinkPending.code,
        )


class CustomerScopedView(PartnerAPIView):
    """A view about one customer, who must be linked to the partner asking.

    Every view finds the partner's customer through `partner_customer` (a purchase
    through `partner_linked_customer`, the lean row its writes need); a customer of
    another partner, or one whose link ended, is a 404.
    """

    def get_customer(self):
        customer = partner_customer(
            partner=self.partner, public_id=public_id_or_404(self.kwargs["customer_id"])
        )
        if customer is None:
            raise Http404
        return customer

    def get_linked_customer(self):
        """The customer, through an active link (a pending one answers 409)."""
        customer = self.get_customer()
        refuse_pending(customer)
        return customer


class CustomerListView(CustomerScopedView):
    serializer_class = CustomerSerializer

    @extend_schema(
        operation_id="customers_list",
        parameters=[CustomerLookupSerializer, *GET_HEADERS],
        responses={
            200: CUSTOMERS_OR_PENDING,
            **error_responses(*ANY_REQUEST, "not_found", fields="an invalid filter"),
        },
    )
    def get(self, request):
        """Customers linked to this partner; `email` or `external_id` look one up."""
        lookup = CustomerLookupSerializer(data=request.query_params)
        lookup.is_valid(raise_exception=True)
        customers = partner_customers(partner=self.partner)
        if "email" in lookup.validated_data:
            customers = customers.filter(user__email__iexact=lookup.validated_data["email"])
        if "external_id" in lookup.validated_data:
            # The annotation: this partner's own id, not one another partner gave them.
            customers = customers.filter(external_id=lookup.validated_data["external_id"])
        page = self.paginate_queryset(customers)
        return self.get_paginated_response(CustomerSerializer(page, many=True).data)

    @extend_schema(
        operation_id="customers_create",
        request=CustomerInSerializer,
        parameters=POST_HEADERS,
        examples=CUSTOMER_EXAMPLES,
        responses={
            201: OpenApiResponse(
                CustomerSerializer, description="Own site: a new customer was created."
            ),
            200: OpenApiResponse(
                CustomerSerializer,
                description="Own site: the email's customer was linked instead; a merchant: "
                "its link to this person was active already.",
            ),
            202: OpenApiResponse(
                PendingCustomerSerializer,
                description="Merchant: the person is asked by email; the link is pending "
                "(for a new and a known address alike).",
            ),
            **error_responses(
                *ANY_POST,
                "external_id_taken",
                fields="invalid fields; `referral_code` that no customer has",
            ),
        },
    )
    def post(self, request):
        """Create a customer, or link the existing customer with this email (a merchant's
        link waits for the person's yes)."""
        given = CustomerInSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        try:
            customer, link, created = services.partner_customer_upsert(
                partner=self.partner,
                external_id=data["external_id"],
                email=data["email"],
                first_name=data.get("first_name", ""),
                last_name=data.get("last_name", ""),
                referral_code=data.get("referral_code") or "",
                language=data.get("language", ""),
            )
        except UnknownReferralCode:
            raise serializers.ValidationError(
                {"referral_code": ["No customer has this referral code."]}
            ) from None
        except ExternalIdTaken as taken:
            raise Conflict(
                "This external_id belongs to another of your customers.", code=taken.code
            ) from None
        customer = partner_customer(partner=self.partner, public_id=customer.public_id)
        if link.status == PartnerCustomer.Status.PENDING:
            answer = status.HTTP_202_ACCEPTED
        elif created:
            answer = status.HTTP_201_CREATED
        else:
            answer = status.HTTP_200_OK
        return Response(CustomerSerializer(customer).data, status=answer)


class CustomerDetailView(CustomerScopedView):
    serializer_class = CustomerSerializer

    @extend_schema(
        parameters=GET_HEADERS,
        responses={
            200: CUSTOMER_OR_PENDING,
            **error_responses(*ANY_REQUEST, "not_found"),
        },
    )
    def get(self, request, customer_id):
        return Response(customer_representation(self.get_customer()))


class CustomerTransactionsView(CustomerScopedView):
    serializer_class = TransactionSerializer

    @extend_schema(
        parameters=GET_HEADERS,
        responses={
            200: TransactionSerializer(many=True),
            **error_responses(*ANY_REQUEST, "not_found", "link_pending"),
        },
    )
    def get(self, request, customer_id):
        """The customer's ledger history, newest first (a merchant reads others' movements
        without their memo)."""
        history = partner_customer_history(
            partner=self.partner, customer=self.get_linked_customer()
        )
        page = self.paginate_queryset(history)
        return self.get_paginated_response(TransactionSerializer(page, many=True).data)


class CustomerPointsView(CustomerScopedView):
    serializer_class = PointsAwardSerializer

    @extend_schema(
        request=PointsAwardSerializer,
        parameters=POST_HEADERS,
        responses={
            201: TransactionSerializer,
            **error_responses(*ANY_POST, "not_found", "link_pending", fields="invalid fields"),
        },
    )
    def post(self, request, customer_id):
        """Award points to the customer, posted at once."""
        customer = self.get_linked_customer()
        given = PointsAwardSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        transaction = services.partner_points_award(
            partner=self.partner, customer=customer, **given.validated_data
        )
        entry = partner_customer_history(partner=self.partner, customer=customer).get(
            transaction=transaction
        )
        return Response(TransactionSerializer(entry).data, status=status.HTTP_201_CREATED)


class CustomerDataRequestView(CustomerScopedView):
    serializer_class = DataRequestSerializer

    @extend_schema(
        request=None,
        parameters=POST_HEADERS,
        responses={
            202: DataRequestSerializer,
            **error_responses(*ANY_POST, "not_found", "link_pending"),
        },
    )
    def post(self, request, customer_id):
        """Ask for an archive of everything held about the customer; it is emailed to them."""
        export = services.partner_data_request(
            partner=self.partner, customer=self.get_linked_customer()
        )
        return Response(DataRequestSerializer(export).data, status=status.HTTP_202_ACCEPTED)


class CustomerRedactView(CustomerScopedView):
    serializer_class = RedactionSerializer

    @extend_schema(
        request=None,
        parameters=POST_HEADERS,
        responses={
            200: RedactionSerializer,
            **error_responses(*ANY_POST, "not_found", "link_pending", "staff_account"),
        },
    )
    def post(self, request, customer_id):
        """An own site erases the customer's personal data everywhere; a merchant ends its
        link and forgets its id for them. Either way the customer then answers 404."""
        customer = self.get_linked_customer()
        try:
            services.partner_customer_redact(partner=self.partner, customer=customer)
        except services.StaffAccount:
            raise Conflict(
                "A staff member's account is never erased through the API.",
                code=services.StaffAccount.code,
            ) from None
        return Response({"id": customer.public_id, "redacted": True})


class ReferralCodeView(PartnerAPIView):
    serializer_class = ReferralCodeSerializer

    @extend_schema(
        parameters=GET_HEADERS,
        responses={200: ReferralCodeSerializer, **error_responses(*ANY_REQUEST, "not_found")},
    )
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
        parameters=POST_HEADERS,
        examples=CONVERSION_EXAMPLES,
        responses={
            201: ConversionSerializer,
            **error_responses(
                *ANY_POST,
                "duplicate_order",
                fields="invalid fields; `customer` not linked to you; a `currency` without "
                "an exchange rate",
            ),
        },
    )
    def post(self, request):
        """Report a purchase: it earns points and may qualify the buyer's referral."""
        given = ConversionInSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        customer = partner_linked_customer(partner=self.partner, public_id=data["customer"])
        if customer is None:
            raise serializers.ValidationError({"customer": ["Unknown customer."]})
        try:
            outcome = services.partner_conversion_record(
                partner=self.partner,
                customer=customer,
                order_id=data["order_id"],
                amount=data["amount"],
                currency=data["currency"].upper(),
                occurred_at=data.get("occurred_at"),
                subject_slug=data.get("subject", ""),
                buyer_referred=customer.referred,
                link_pending=customer.link == PartnerCustomer.Status.PENDING,
            )
        except DuplicateOrder:
            raise Conflict("This order was reported before.", code="duplicate_order") from None
        except UnknownCurrency as unknown:
            raise serializers.ValidationError({"currency": [str(unknown)]}) from None
        return Response(ConversionSerializer(outcome).data, status=status.HTTP_201_CREATED)


class ConversionRefundView(PublicIdLookupMixin, PartnerAPIView):
    serializer_class = RefundInSerializer
    lookup_url_kwarg = "conversion_id"

    def get_queryset(self):
        return partner_conversions(partner=self.partner)

    @extend_schema(
        request=RefundInSerializer,
        parameters=POST_HEADERS,
        responses={
            200: ConversionSerializer,
            **error_responses(
                *ANY_POST,
                "not_found",
                "already_refunded",
                fields="an `amount` above what is left to refund",
            ),
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


class RewardListView(PartnerAPIView):
    serializer_class = RewardSerializer

    @extend_schema(
        parameters=GET_HEADERS,
        responses={
            200: RewardSerializer(many=True),
            **error_responses(*ANY_REQUEST, "not_found"),
        },
    )
    def get(self, request):
        """The active catalog: rewards in date and in stock."""
        page = self.paginate_queryset(active_rewards())
        return self.get_paginated_response(RewardSerializer(page, many=True).data)


class RedemptionListView(PartnerAPIView):
    serializer_class = RedemptionInSerializer

    @extend_schema(
        request=RedemptionInSerializer,
        parameters=POST_HEADERS,
        responses={
            201: RedemptionSerializer,
            **error_responses(
                *ANY_POST,
                "link_pending",
                "insufficient_points",
                "reward_unavailable",
                fields="invalid fields; an unknown `customer` or `reward`",
            ),
        },
    )
    def post(self, request):
        """Redeem a customer's settled points for a reward; a voucher is issued."""
        given = RedemptionInSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        customer = partner_customer(partner=self.partner, public_id=data["customer"])
        if customer is None:
            raise serializers.ValidationError({"customer": ["Unknown customer."]})
        refuse_pending(customer)
        reward = active_rewards().filter(public_id=data["reward"]).first()
        if reward is None:
            raise serializers.ValidationError({"reward": ["No such reward in the catalog."]})
        try:
            redemption = services.partner_reward_redeem(
                partner=self.partner,
                customer=customer,
                reward=reward,
                idempotency_key=request.headers[HEADER],
            )
        except (InsufficientPoints, RewardUnavailable) as refused:
            raise Conflict(str(refused), code=refused.code) from None
        return Response(RedemptionSerializer(redemption).data, status=status.HTTP_201_CREATED)


class VoucherScopedView(PartnerAPIView):
    """A voucher of a customer linked to the partner; any other code is 404."""

    def get_voucher(self, code: str) -> Voucher:
        voucher = partner_voucher(partner=self.partner, code=code)
        if voucher is None:
            raise Http404
        return voucher


class VoucherDetailView(VoucherScopedView):
    serializer_class = VoucherSerializer

    @extend_schema(
        parameters=GET_HEADERS,
        responses={200: VoucherSerializer, **error_responses(*ANY_REQUEST, "not_found")},
    )
    def get(self, request, code):
        return Response(VoucherSerializer(self.get_voucher(code)).data)


class VoucherUseView(VoucherScopedView):
    serializer_class = VoucherUseSerializer

    @extend_schema(
        request=VoucherUseSerializer,
        parameters=POST_HEADERS,
        responses={
            200: VoucherSerializer,
            **error_responses(
                *ANY_POST,
                "not_found",
                "voucher_used",
                "voucher_expired",
                "voucher_void",
                fields="`order_id` missing",
            ),
        },
    )
    def post(self, request, code):
        """Use a voucher for an order, once."""
        voucher = self.get_voucher(code)
        given = VoucherUseSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            voucher = services.partner_voucher_use(
                voucher=voucher, order_id=given.validated_data["order_id"]
            )
        except VoucherError as refused:
            raise Conflict(str(refused), code=refused.code) from None
        return Response(VoucherSerializer(voucher).data)


class ReviewListView(PartnerAPIView):
    serializer_class = ReviewSerializer

    @extend_schema(
        parameters=[ReviewQuerySerializer, *GET_HEADERS],
        responses={
            200: ReviewSerializer(many=True),
            **error_responses(*ANY_REQUEST, "not_found", fields="an invalid filter"),
        },
    )
    def get(self, request):
        """Published reviews, newest first, for widgets on partner pages."""
        query = ReviewQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        reviews = published_reviews(
            subject_slug=query.validated_data.get("subject"),
            min_rating=query.validated_data.get("min_rating"),
        )
        page = self.paginate_queryset(reviews)
        return self.get_paginated_response(ReviewSerializer(page, many=True).data)


class ReviewSummaryView(PartnerAPIView):
    serializer_class = ReviewSummarySerializer

    @extend_schema(
        parameters=[ReviewSummaryQuerySerializer, *GET_HEADERS],
        responses={
            200: ReviewSummarySerializer,
            **error_responses(*ANY_REQUEST, "not_found", fields="`subject` missing"),
        },
    )
    def get(self, request):
        """Count, average and star distribution of a subject's published reviews."""
        query = ReviewSummaryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            summary = review_summary(subject_slug=query.validated_data["subject"])
        except Subject.DoesNotExist:
            raise Http404 from None
        return Response(ReviewSummarySerializer(summary).data)


class QuestionListView(PartnerAPIView):
    serializer_class = QuestionSerializer

    @extend_schema(
        parameters=[QuestionQuerySerializer, *GET_HEADERS],
        responses={
            200: QuestionSerializer(many=True),
            **error_responses(*ANY_REQUEST, "not_found", fields="an invalid filter"),
        },
    )
    def get(self, request):
        """Published questions with their published answers, newest first, for partner pages."""
        query = QuestionQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        questions = published_questions(subject_slug=query.validated_data.get("subject"))
        page = self.paginate_queryset(questions)
        return self.get_paginated_response(QuestionSerializer(page, many=True).data)


@extend_schema(exclude=True)
class NotFoundView(PartnerAPIView):
    """Any other path under the API: 404 with the API's error body, not an HTML page."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        raise Http404
