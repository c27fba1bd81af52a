"""Input and output shapes of the partner API (partner-api.md is the contract)."""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from customers.models import Customer
from loyalty.tiers import customer_tier
from partners.selectors import ConversionOutcome
from referrals.selectors import referral_url, referred_by_code


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
    external_id = serializers.CharField(max_length=255)
    email = serializers.EmailField(max_length=254)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    referral_code = serializers.CharField(
        max_length=32, required=False, allow_blank=True, allow_null=True
    )


class CustomerSerializer(serializers.Serializer):
    """A customer as one partner sees it (`external_id` is that partner's own id)."""

    id = serializers.UUIDField(source="public_id")
    external_id = serializers.CharField()
    email = serializers.EmailField(source="user.email")
    first_name = serializers.CharField(source="user.first_name")
    last_name = serializers.CharField(source="user.last_name")
    referral_code = serializers.CharField()
    referral_url = serializers.SerializerMethodField()
    referred_by = serializers.SerializerMethodField(
        help_text="The referral code of who referred the customer, or null."
    )
    tier = serializers.SerializerMethodField(help_text="The name of the customer's tier.")
    points = PointsSerializer(source="*")
    created_at = serializers.DateTimeField()

    def get_referral_url(self, customer: Customer) -> str:
        return referral_url(customer=customer)

    def get_referred_by(self, customer: Customer) -> str | None:
        return referred_by_code(customer=customer)

    def get_tier(self, customer: Customer) -> str | None:
        tier = customer_tier(customer=customer)
        return tier.name if tier else None


class CustomerLookupSerializer(serializers.Serializer):
    email = serializers.EmailField(required=False)
    external_id = serializers.CharField(required=False, max_length=255)


class TransactionSerializer(serializers.Serializer):
    """One ledger transaction from the customer's side (`points` signed for them)."""

    id = serializers.UUIDField(source="transaction.public_id")
    kind = serializers.CharField(source="transaction.kind")
    status = serializers.CharField(source="transaction.status")
    points = serializers.IntegerField(source="amount")
    memo = serializers.CharField(source="transaction.memo")
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
        return referral.reward_transaction.entries.get(amount__gt=0).amount


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
