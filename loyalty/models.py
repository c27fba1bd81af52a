"""The points ledger and what is built on it: earn rules, tiers, rewards, vouchers, gifts.

Only `loyalty.ledger` writes Account balances, Transaction and Entry rows.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from customers.models import Customer
from loyalty.memos import Memo


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
    # The customer's tier as last placed (loyalty/tiers.py): every posting to the account
    # clears `tier_fresh_until`, and a placement made from another version of the tier list
    # (`tier_list_version`) is placed again, so a stale placement is never read; time alone
    # (points leaving the 12-month window) is caught by the expiry of the placement.
    tier = models.ForeignKey(
        "Tier", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    tier_fresh_until = models.DateTimeField(null=True, blank=True)
    # The standing the placement was made from (see TierStanding).
    tier_points = models.BigIntegerField(default=0)
    tier_referrals = models.PositiveIntegerField(default=0)
    # The fewest points that reach a tier the placement does not (empty: none is left), so
    # points earned below it keep the tier without the tier list being read.
    tier_next_points = models.BigIntegerField(null=True, blank=True)
    tier_list_version = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # The daily expiry run reads only accounts holding points, oldest activity first.
            models.Index(
                fields=["last_activity_at"],
                condition=models.Q(settled_balance__gt=0, customer__isnull=False),
                name="account_expiry_candidates",
            ),
        ]
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
        ANSWER_BONUS = "answer_bonus", _("Answer bonus")
        GIFT = "gift", _("Gift")
        REDEEM = "redeem", _("Redemption")
        ADJUST = "adjust", _("Adjustment")
        OPENING_BALANCE = "opening_balance", _("Opening balance")
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
    memo = models.CharField(
        max_length=255, help_text=_("What the customer reads, in English (for staff and partners).")
    )
    # What the memo means (see loyalty.memos): customers read it in their own language.
    memo_kind = models.CharField(max_length=30, blank=True)
    memo_params = models.JSONField(default=dict, blank=True)
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

    # Not stored: on the instance `loyalty.ledger.post` returns, the entries it wrote, so
    # that what the posting credited is known without reading them back.
    entries_written: list[Entry] | None = None

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
        permissions = [("reverse_transaction", "Can reverse or void a transaction")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="pending") | models.Q(settles_at__isnull=False),
                name="transaction_pending_has_settles_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_status_display()}) {self.public_id}"

    @property
    def memo_text(self) -> str:
        """The memo in the active language (typed text as typed)."""
        return Memo.of(self).text()


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


class EarnRule(models.Model):
    """The program's earning rules; one row (pk 1), edited by staff in the admin."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    program_currency = models.CharField(
        _("program currency"), max_length=3, default="EUR", help_text=_("ISO 4217 code.")
    )
    points_per_unit = models.DecimalField(
        _("points per currency unit"), max_digits=9, decimal_places=4, default=1
    )
    hold_days = models.PositiveIntegerField(
        _("hold days for earned points"),
        default=0,
        help_text=_("0 posts earned points at once; otherwise they wait out the return window."),
    )
    first_review_bonus = models.PositiveIntegerField(_("first review bonus points"), default=50)
    answer_bonus = models.PositiveIntegerField(
        _("points for answering a question"),
        default=10,
        help_text=_("Once per question and customer, when the answer is published."),
    )
    answer_bonus_daily_limit = models.PositiveIntegerField(
        _("answers rewarded per customer and day"),
        default=3,
        help_text=_("Answers beyond this in one day are published without points."),
    )
    birthday_gift = models.PositiveIntegerField(_("birthday gift points"), default=100)
    inactivity_expiry_months = models.PositiveIntegerField(
        _("expire points after months of inactivity"),
        default=12,
        help_text=_("0 means points never expire."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("earn rules")
        verbose_name_plural = _("earn rules")
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="earnrule_single_row"),
            models.CheckConstraint(
                condition=models.Q(points_per_unit__gte=0), name="earnrule_rate_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return str(_("Earn rules"))


class ExchangeRate(models.Model):
    """How much one unit of a purchase currency is worth in the program currency."""

    currency = models.CharField(_("currency"), max_length=3, unique=True)
    rate = models.DecimalField(
        _("rate to program currency"),
        max_digits=18,
        decimal_places=8,
        help_text=_("1 unit of this currency = rate units of the program currency."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["currency"]
        constraints = [
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="exchangerate_positive"),
        ]

    def __str__(self) -> str:
        return f"1 {self.currency} = {self.rate}"


# The tiers the migrations seed, so that their names are in the catalogue.
SEEDED_TIER_NAMES = (gettext_noop("Bronze"), gettext_noop("Silver"), gettext_noop("Gold"))


class Tier(models.Model):
    """A loyalty tier, reached by points earned in 12 months or by successful referrals."""

    name = models.CharField(_("name"), max_length=50, unique=True)
    min_points = models.PositiveIntegerField(_("points earned in the last 12 months"), default=0)
    min_referrals = models.PositiveIntegerField(
        _("or successful referrals"),
        null=True,
        blank=True,
        help_text=_("Empty: this tier cannot be reached by referrals alone."),
    )
    multiplier = models.DecimalField(
        _("earning multiplier"), max_digits=4, decimal_places=2, default=1
    )
    benefits = models.TextField(_("benefits"), blank=True)

    class Meta:
        ordering = ["min_points", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(multiplier__gt=0), name="tier_multiplier"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def shown_name(self) -> str:
        """The name in the reader's language if it is one the catalogue knows (the seeded
        Bronze, Silver and Gold); a name staff chose reads as written."""
        return gettext(self.name)


class TierListVersion(models.Model):
    """One row counting changes to the tiers: a stored placement made from another version
    is stale, so a tier saved touches this row instead of every account."""

    version = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"Tier list version {self.version}"


class Reward(models.Model):
    """Something in the catalog that customers redeem points for."""

    class Kind(models.TextChoices):
        DISCOUNT_PERCENT = "discount_percent", _("Percentage discount")
        DISCOUNT_AMOUNT = "discount_amount", _("Discount amount")
        FREE_PRODUCT = "free_product", _("Free product")
        GIFT_CARD = "gift_card", _("Gift card")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    value = models.DecimalField(
        _("value"),
        max_digits=10,
        decimal_places=2,
        default=0,
        help_text=_("Percent, or amount in the program currency; 0 for a free product."),
    )
    points_cost = models.PositiveIntegerField(_("points cost"))
    stock = models.PositiveIntegerField(
        _("stock"), null=True, blank=True, help_text=_("Empty: unlimited.")
    )
    active_from = models.DateTimeField(_("active from"), null=True, blank=True)
    active_until = models.DateTimeField(_("active until"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    voucher_valid_days = models.PositiveIntegerField(_("voucher valid for days"), default=90)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["points_cost", "name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(points_cost__gt=0), name="reward_costs"),
            models.CheckConstraint(
                condition=models.Q(stock__isnull=True) | models.Q(stock__gte=0),
                name="reward_stock_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.points_cost} points)"

    def is_open(self, now: datetime) -> bool:
        """Offered at `now` (active and within its dates), stock aside."""
        return (
            self.is_active
            and (self.active_from is None or self.active_from <= now)
            and (self.active_until is None or now < self.active_until)
        )


class Redemption(models.Model):
    """A customer spent settled points on a reward; the voucher is what they use."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="redemptions")
    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, related_name="redemptions")
    points_spent = models.PositiveIntegerField()
    transaction = models.OneToOneField(
        Transaction, on_delete=models.PROTECT, related_name="redemption"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.reward.name} for {self.customer}"


class Voucher(models.Model):
    """A single-use code for a reward, checked and used by partner sites."""

    class Status(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("voucher", "Active")
        USED = "used", pgettext_lazy("voucher", "Used")
        EXPIRED = "expired", pgettext_lazy("voucher", "Expired")
        VOID = "void", pgettext_lazy("voucher", "Void")

    code = models.CharField(max_length=16, unique=True, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="vouchers")
    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, related_name="vouchers")
    redemption = models.OneToOneField(
        Redemption, on_delete=models.PROTECT, null=True, blank=True, related_name="voucher"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_order_id = models.CharField(max_length=255, blank=True)
    void_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["expires_at"],
                condition=models.Q(status="active"),
                name="voucher_active_expiry",
            ),
        ]
        permissions = [("void_voucher", "Can cancel a voucher and return its points")]

    def __str__(self) -> str:
        return f"{self.code} ({self.get_status_display()})"

    @staticmethod
    def normalise_code(code: str) -> str:
        """A code as a person typed it, as stored: upper case, without spaces or dashes."""
        return "".join(code.split()).replace("-", "").upper()


class GiftCampaign(models.Model):
    """Staff sending points or a reward to one customer or a segment, run by a Celery task."""

    class Segment(models.TextChoices):
        ONE_CUSTOMER = "one_customer", _("One customer")
        TIER = "tier", _("Everyone in a tier")
        BIRTHDAY_THIS_MONTH = "birthday_month", _("Birthday this month")
        REFERRERS = "referrers", _("Referred at least N friends")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        STOPPED = "stopped", _("Stopped")

    name = models.CharField(_("name"), max_length=120)
    points = models.PositiveIntegerField(_("points"), null=True, blank=True)
    reward = models.ForeignKey(
        Reward, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("reward")
    )
    note = models.CharField(_("note to the customers"), max_length=500, blank=True)
    segment = models.CharField(_("who"), max_length=20, choices=Segment.choices)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("customer")
    )
    tier = models.ForeignKey(
        Tier, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("tier")
    )
    min_referrals = models.PositiveIntegerField(_("at least N referrals"), null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    stopped_reason = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(points__isnull=False, reward__isnull=True)
                | models.Q(points__isnull=True, reward__isnull=False),
                name="giftcampaign_points_or_reward",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if (self.points is None) == (self.reward_id is None):
            raise ValidationError(_("Give either points or a reward."))
        needed = {
            self.Segment.ONE_CUSTOMER: ("customer", self.customer_id),
            self.Segment.TIER: ("tier", self.tier_id),
            self.Segment.REFERRERS: ("min_referrals", self.min_referrals),
        }.get(self.segment)
        if needed and not needed[1]:
            raise ValidationError({needed[0]: _("Required for this choice of who receives it.")})


class Gift(models.Model):
    """Points or a reward given to a customer, by a friend or by staff (in a campaign)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sender = models.ForeignKey(
        Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="gifts_sent"
    )
    recipient = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="gifts_received")
    campaign = models.ForeignKey(
        GiftCampaign, on_delete=models.PROTECT, null=True, blank=True, related_name="gifts"
    )
    points = models.PositiveIntegerField(null=True, blank=True)
    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)
    transaction = models.OneToOneField(
        Transaction, on_delete=models.PROTECT, null=True, blank=True, related_name="gift"
    )
    voucher = models.OneToOneField(
        Voucher, on_delete=models.PROTECT, null=True, blank=True, related_name="gift"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # A campaign that runs twice (a retried task) gives each customer one gift.
            models.UniqueConstraint(
                fields=["campaign", "recipient"],
                condition=models.Q(campaign__isnull=False),
                name="gift_once_per_campaign",
            ),
        ]

    def __str__(self) -> str:
        return f"Gift to {self.recipient}"


class ExpiryNotice(models.Model):
    """The reminder sent before an account's points expire, once per stretch of inactivity."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="expiry_notices")
    last_activity_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    points = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "last_activity_at"], name="expirynotice_once_per_inactivity"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account}: {self.points} points expire {self.expires_at:%Y-%m-%d}"


class SettledBatchEmails(models.Model):
    """A settlement batch whose "reward settled" emails are still to be written.

    Stored in the batch's transaction, so the emails survive a broker outage without
    rendering thousands of them while the batch holds its rows; a worker writes them into
    the outbox and marks the batch, in one transaction (once), and the beat's sweeper
    hands on batches whose message the broker lost.
    """

    batch = models.UUIDField(unique=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("settled batch's emails")
        verbose_name_plural = _("settled batches' emails")

    def __str__(self) -> str:
        return str(self.batch)


class AdjustmentRequest(models.Model):
    """A staff adjustment of a customer's points; large ones wait for a second staff member."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        POSTED = "posted", _("Posted")
        REJECTED = "rejected", _("Rejected")

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="adjustments", verbose_name=_("customer")
    )
    points = models.IntegerField(
        _("points"), help_text=_("Positive to add points, negative to take them away.")
    )
    reason = models.TextField(_("reason"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    transaction = models.OneToOneField(
        Transaction, on_delete=models.PROTECT, null=True, blank=True, related_name="adjustment"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(points=0), name="adjustment_not_zero"),
        ]
        permissions = [("decide_adjustmentrequest", "Can approve or reject an adjustment request")]

    def __str__(self) -> str:
        return f"{self.points:+d} points for {self.customer}"
