"""The points ledger and what is built on it: earn rules, tiers, rewards, vouchers, gifts.

Only `loyalty.ledger` writes Account balances, Transaction and Entry rows.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from customers.models import Customer


class Account(models.Model):
    """A customer's points account, or a system account that is the other side of entries.

    Only customer accounts keep cached balances: system accounts are summed on
    demand, so that no posting has to lock one shared hot row.
    """

    class System(models.TextChoices):
        POINTS_ISSUED = "points_issued", _("Points issued")
        REFERRAL_EXPENSE = "referral_expense", _("Referral expense")
        GIFTS = "gifts", _("Gifts")
        REDEMPTIONS = "redemptions", _("Redemptions")
        EXPIRY = "expiry", _("Expiry")
        WRITE_OFF = "write_off", _("Write-off")
        ADJUSTMENTS = "adjustments", _("Staff adjustments")

    customer = models.OneToOneField(
        Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="points_account"
    )
    system_code = models.CharField(
        max_length=32, choices=System.choices, unique=True, null=True, blank=True
    )
    settled_balance = models.BigIntegerField(default=0)
    pending_balance = models.BigIntegerField(default=0)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(customer__isnull=False, system_code__isnull=True)
                | models.Q(customer__isnull=True, system_code__isnull=False),
                name="account_customer_or_system",
            ),
            # The last line of defence: a customer balance never goes below zero.
            models.CheckConstraint(
                condition=models.Q(settled_balance__gte=0), name="account_settled_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(pending_balance__gte=0), name="account_pending_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.get_system_code_display() if self.system_code else f"Points of {self.customer}"


class Transaction(models.Model):
    class Kind(models.TextChoices):
        EARN = "earn", _("Points earned")
        REFERRAL_REWARD = "referral_reward", _("Referral reward")
        WELCOME_GIFT = "welcome_gift", _("Welcome gift")
        REVIEW_BONUS = "review_bonus", _("Review bonus")
        GIFT = "gift", _("Gift")
        REDEEM = "redeem", _("Redemption")
        ADJUST = "adjust", _("Adjustment")
        EXPIRE = "expire", _("Expiry")
        REVERSAL = "reversal", _("Reversal")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        POSTED = "posted", _("Posted")
        VOIDED = "voided", _("Voided")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices)
    idempotency_key = models.CharField(max_length=255, unique=True, null=True, blank=True)
    cause = models.CharField(
        max_length=20,
        blank=True,
        help_text=_("What caused it: conversion, referral, review, gift, staff adjustment…"),
    )
    cause_ref = models.CharField(max_length=64, blank=True, db_index=True)
    memo = models.CharField(max_length=255, help_text=_("What the customer reads."))
    reason = models.TextField(blank=True, help_text=_("Why, for staff."))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reverses = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversals"
    )
    exchange_rate = models.DecimalField(
        max_digits=18,
        decimal_places=8,
        null=True,
        blank=True,
        help_text=_("Purchase currency to program currency, at the time of earning."),
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    settles_at = models.DateTimeField(null=True, blank=True)
    posted_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    settlement_batch = models.UUIDField(null=True, blank=True, editable=False, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["settles_at", "id"],
                condition=models.Q(status="pending"),
                name="transaction_due_pending",
            ),
            models.Index(fields=["cause", "cause_ref"], name="transaction_cause"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="pending") | models.Q(settles_at__isnull=False),
                name="transaction_pending_has_settles_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_status_display()}) {self.public_id}"


class Entry(models.Model):
    """One side of a transaction; append-only (a PostgreSQL trigger refuses UPDATE and DELETE)."""

    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    amount = models.BigIntegerField()

    class Meta:
        verbose_name_plural = "entries"
        indexes = [models.Index(fields=["account", "transaction"], name="entry_account_txn")]
        constraints = [
            models.CheckConstraint(condition=~models.Q(amount=0), name="entry_amount_not_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.account}: {self.amount:+d}"
