"""Input and output shapes of the partner API (partner-api.md is the contract)."""

from __future__ import annotations

from rest_framework import serializers


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
    points = PointsSerializer(source="*")
    created_at = serializers.DateTimeField()


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
