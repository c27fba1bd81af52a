"""Input and output shapes of the partner API (partner-api.md is the contract)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.validators import validate_printable
from customers.models import Customer
from customers.selectors import referral_url
from loyalty.ledger import credited_points
from loyalty.tiers import customer_tier_name
from partners.models import PartnerCustomer
from partners.selectors import ConversionOutcome

PENDING = PartnerCustomer.Status.PENDING


class ErrorSerializer(serializers.Serializer):
    """Every error except validation: a human message and a machine code."""

    detail = serializers.CharField()
    code = serializers.CharField()


class PointsSerializer(serializers.Serializer):
    balance = serializers.IntegerField(
        source="points_balance", help_text="Settled points the customer can spend."
    )
    pending = serializers.IntegerField(
        source="points_pending", help_text="Points held until their hold period passes."
    )


class CustomerInSerializer(serializers.Serializer):
    # Shown to staff in the admin and searched on: printable text only, like names.
    external_id = serializers.CharField(max_length=255, validators=[validate_printable])
    email = serializers.EmailField(max_length=254)
    first_name = serializers.CharField(
        max_length=150, required=False, allow_blank=True, validators=[validate_printable]
    )
    last_name = serializers.CharField(
        max_length=150, required=False, allow_blank=True, validators=[validate_printable]
    )
    referral_code = serializers.CharField(
        max_length=32, required=False, allow_blank=True, allow_null=True
    )
    language = serializers.ChoiceField(
        choices=Customer.Language.values,
        required=False,
        allow_blank=True,
        help_text="The language of the portal and the emails of a new customer: en, de, fr, "
        "or de-ch / fr-ch (Swiss formats); empty or absent: their browser's (emails in "
        "English until they choose). An existing customer keeps theirs.",
    )


class PendingCustomerSerializer(serializers.Serializer):
    """A customer whose merchant link waits for their yes: only the link itself shows."""

    id = serializers.UUIDField(source="public_id")
    external_id = serializers.CharField()
    link = serializers.ChoiceField(choices=["pending", "active"])


class CustomerSerializer(serializers.Serializer):
    """A customer as one partner sees it (`external_id` is that partner's own id)."""

    id = serializers.UUIDField(source="public_id")
    external_id = serializers.CharField()
    email = serializers.EmailField(source="user_email")
    first_name = serializers.CharField(source="user_first_name")
    last_name = serializers.CharField(source="user_last_name")
    referral_code = serializers.CharField()
    referral_url = serializers.SerializerMethodField()
    referred_by = serializers.CharField(
        allow_null=True, help_text="The referral code of who referred the customer, or null."
    )
    tier = serializers.SerializerMethodField(help_text="The name of the customer's tier.")
    points = PointsSerializer(source="*")
    link = serializers.ChoiceField(
        choices=["pending", "active"],
        help_text="A merchant's link is pending until the person says yes; meanwhile only "
        "`id`, `external_id` and `link` are shown.",
    )
    created_at = serializers.DateTimeField()

    def get_referral_url(self, customer: Customer) -> str:
        return referral_url(customer=customer)

    def get_tier(self, customer: Customer) -> str | None:
        return customer_tier_name(customer=customer)

    def to_representation(self, customer: Customer) -> dict:
        if customer.link == PENDING:
            return PendingCustomerSerializer(context=self.context).to_representation(customer)
        return super().to_representation(customer)


# Bound once per process and reused for every detail read (to_representation keeps no
# state): DRF's copying of every field per answer costs that read more than a tenth of its rate.
CUSTOMER_SHAPE = CustomerSerializer()


def customer_representation(customer: Customer) -> dict:
    """What `CustomerSerializer(customer).data` answers, from fields bound once."""
    return CUSTOMER_SHAPE.to_representation(customer)


class CustomerLookupSerializer(serializers.Serializer):
    email = serializers.EmailField(required=False)
    external_id = serializers.CharField(
        required=False, max_length=255, validators=[validate_printable]
    )


class TransactionSerializer(serializers.Serializer):
    """One ledger transaction from the customer's side (`points` signed for them)."""

    id = serializers.UUIDField(source="transaction.public_id")
    kind = serializers.CharField(source="transaction.kind")
    status = serializers.CharField(source="transaction.status")
    points = serializers.IntegerField(source="amount")
    memo = serializers.CharField(
        source="shown_memo", help_text="Empty for a merchant's view of others' movements."
    )
    created_at = serializers.DateTimeField(source="transaction.created_at")
    settles_at = serializers.DateTimeField(source="transaction.settles_at", allow_null=True)


class PointsAwardSerializer(serializers.Serializer):
    points = serializers.IntegerField(min_value=1, max_value=1_000_000)
    reason = serializers.CharField(max_length=255)


class ReferrerSerializer(serializers.Serializer):
    first_name = serializers.CharField()


class ReferralCodeSerializer(serializers.Serializer):
    code = serializers.CharField()
    referrer = ReferrerSerializer()
    offer = serializers.CharField(help_text="The text of the friend's welcome gift.")


class ConversionInSerializer(serializers.Serializer):
    customer = serializers.UUIDField(help_text="The customer's id.")
    order_id = serializers.CharField(max_length=255)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", help_text="ISO 4217 code.")
    occurred_at = serializers.DateTimeField(required=False)
    subject = serializers.SlugField(
        max_length=100,
        required=False,
        help_text="What was bought (a reviews subject slug), so its review shows "
        "as a verified purchase.",
    )


class RefundInSerializer(serializers.Serializer):
    amount = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        help_text="Default: all that is left.",
    )


class ReferralRewardSerializer(serializers.Serializer):
    referrer = serializers.UUIDField(source="referrer.public_id")
    points = serializers.SerializerMethodField()
    status = serializers.CharField(source="reward_transaction.status")
    settles_at = serializers.DateTimeField(source="reward_transaction.settles_at", allow_null=True)

    def get_points(self, referral) -> int:
        return credited_points(referral.reward_transaction)


class ConversionSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="conversion.public_id")
    customer = serializers.UUIDField(source="conversion.customer.public_id")
    order_id = serializers.CharField(source="conversion.order_id")
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, source="conversion.amount")
    currency = serializers.CharField(source="conversion.currency")
    status = serializers.CharField(source="conversion.status")
    points_earned = serializers.IntegerField()
    referral_reward = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(source="conversion.created_at")

    @extend_schema_field(ReferralRewardSerializer(allow_null=True))
    def get_referral_reward(self, outcome: ConversionOutcome) -> dict | None:
        referral = outcome.referral
        if referral is None or referral.reward_transaction is None:
            return None
        return ReferralRewardSerializer(referral).data


class RewardSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    name = serializers.CharField()
    description = serializers.CharField()
    points_cost = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=["discount_percent", "discount_amount",
                                            "free_product", "gift_card"])  # fmt: skip
    value = serializers.DecimalField(max_digits=10, decimal_places=2)


class RedemptionInSerializer(serializers.Serializer):
    customer = serializers.UUIDField(help_text="The customer's id.")
    reward = serializers.UUIDField(help_text="The reward's id.")


class VoucherStatusField(serializers.ChoiceField):
    """An active voucher past its date reads as expired before the nightly sweep marks it."""

    def __init__(self, **kwargs):
        super().__init__(choices=["active", "used", "expired", "void"], source="*", **kwargs)

    def to_representation(self, voucher) -> str:
        if voucher.status == "active" and voucher.expires_at <= timezone.now():
            return "expired"
        return voucher.status


class RedemptionVoucherSerializer(serializers.Serializer):
    code = serializers.CharField()
    status = VoucherStatusField()
    expires_at = serializers.DateTimeField()


class RedemptionSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    customer = serializers.UUIDField(source="customer.public_id")
    reward = serializers.UUIDField(source="reward.public_id")
    points_spent = serializers.IntegerField()
    voucher = RedemptionVoucherSerializer()


class VoucherSerializer(serializers.Serializer):
    code = serializers.CharField()
    status = VoucherStatusField()
    reward = serializers.UUIDField(source="reward.public_id")
    customer = serializers.UUIDField(source="customer.public_id")
    expires_at = serializers.DateTimeField()


class VoucherUseSerializer(serializers.Serializer):
    order_id = serializers.CharField(max_length=255)


class ReviewQuerySerializer(serializers.Serializer):
    subject = serializers.SlugField(required=False, help_text="Only reviews of this subject.")
    min_rating = serializers.IntegerField(required=False, min_value=1, max_value=5)


class ReviewSummaryQuerySerializer(serializers.Serializer):
    subject = serializers.SlugField()


class ReviewReplySerializer(serializers.Serializer):
    body = serializers.CharField()
    author = serializers.CharField(source="author_name")
    created_at = serializers.DateTimeField()


class ReviewSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    subject = serializers.SlugField(source="subject.slug")
    rating = serializers.IntegerField()
    title = serializers.CharField()
    body = serializers.CharField()
    author = serializers.CharField(
        source="author_display", help_text="First name and last initial."
    )
    verified_purchase = serializers.BooleanField()
    photos = serializers.SerializerMethodField()
    reply = ReviewReplySerializer(source="public_reply", allow_null=True)
    helpful_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()

    def get_photos(self, review) -> list[str]:
        """Absolute URLs: the widget shows them on the partner's own site."""
        return [url if "://" in url else settings.SITE_URL + url for url in review.photo_urls]


class QuestionQuerySerializer(serializers.Serializer):
    subject = serializers.SlugField(required=False, help_text="Only questions about this subject.")


class AnswerSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    body = serializers.CharField()
    author = serializers.CharField(
        source="author_display", help_text="First name and last initial."
    )
    label = serializers.SerializerMethodField(
        help_text='"staff", "bought" (bought the subject) or null.'
    )
    incentivised = serializers.BooleanField(help_text="The author received points for it.")
    helpful_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()

    def get_label(self, answer) -> str | None:
        if answer.by_staff:
            return "staff"
        return "bought" if answer.bought else None


class QuestionSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    subject = serializers.SlugField(source="subject.slug")
    body = serializers.CharField()
    author = serializers.CharField(
        source="author_display", help_text="First name and last initial."
    )
    answers = AnswerSerializer(
        source="published_answers",
        many=True,
        help_text="Published answers: staff first, then the most helpful.",
    )
    created_at = serializers.DateTimeField()


class ReviewDistributionSerializer(serializers.Serializer):
    """How many published reviews gave each number of stars."""

    def get_fields(self):
        return {str(stars): serializers.IntegerField() for stars in range(1, 6)}


class ReviewSummarySerializer(serializers.Serializer):
    subject = serializers.SlugField()
    count = serializers.IntegerField()
    average = serializers.FloatField(allow_null=True, help_text="2 decimals; null if none.")
    distribution = ReviewDistributionSerializer()


class DataRequestSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    status = serializers.CharField(
        help_text="queued, building, ready or failed; the archive is emailed to the customer."
    )
    progress = serializers.IntegerField(help_text="Percent done.")
    created_at = serializers.DateTimeField()


class RedactionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    redacted = serializers.BooleanField()
