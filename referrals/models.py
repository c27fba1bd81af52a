"""Referral programs, referrals, invitations, warm introductions, link visits and the
do-not-invite list."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from customers.models import ContactPerson, Customer
from loyalty.models import Reward, Transaction, Voucher


class IntroductionRewardKind(models.TextChoices):
    POINTS = "points", _("Points")
    VOUCHER = "voucher", _("A voucher for a catalog reward")
    PER_VALUE = "per_value", _("Points per unit of the won value")


class ReferralProgram(models.Model):
    """What a referral earns and when; exactly one program is active at a time."""

    class QualifyingEvent(models.TextChoices):
        SIGNUP = "signup", _("The friend signs up")
        PURCHASE = "purchase", _("The friend's first purchase (of at least the minimum)")

    name = models.CharField(_("name"), max_length=120)
    is_active = models.BooleanField(
        _("active"), default=False, help_text=_("Only one program can be active at a time.")
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    referrer_points = models.PositiveIntegerField(_("referrer's reward (points)"), default=500)
    friend_points = models.PositiveIntegerField(
        _("friend's welcome gift (points)"), default=250, help_text=_("0 for no points.")
    )
    friend_reward = models.ForeignKey(
        Reward,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("friend's welcome gift (catalog reward)"),
        help_text=_("Optional: a voucher for this reward, besides or instead of points."),
    )
    friend_offer = models.CharField(
        _("friend's offer"),
        max_length=200,
        help_text=_(
            "What the invited friend reads, e.g. '250 welcome points on your first order'."
        ),
    )
    qualifying_event = models.CharField(
        _("qualifying event"),
        max_length=10,
        choices=QualifyingEvent.choices,
        default=QualifyingEvent.PURCHASE,
    )
    minimum_purchase = models.DecimalField(
        _("minimum purchase"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        help_text=_("0 means a purchase of any amount qualifies."),
    )
    minimum_currency = models.CharField(
        _("currency of the minimum"),
        max_length=3,
        default="EUR",
        help_text=_("Purchases in other currencies qualify only when the minimum is 0."),
    )
    hold_days = models.PositiveIntegerField(
        _("hold days"), default=14, help_text=_("Rewards stay pending through the return window.")
    )
    attribution_window_days = models.PositiveIntegerField(
        _("attribution window (days)"), default=30
    )
    max_rewarded_per_month = models.PositiveIntegerField(
        _("rewarded referrals per referrer per month"), default=10
    )
    max_invitations_per_day = models.PositiveIntegerField(
        _("invitations per customer per day"), default=50
    )
    introduction_reward_kind = models.CharField(
        _("introducer's reward"),
        max_length=10,
        choices=IntroductionRewardKind.choices,
        default=IntroductionRewardKind.POINTS,
        help_text=_("What a customer earns when a friend they introduced is won."),
    )
    introduction_points = models.PositiveIntegerField(
        _("introducer's reward (points)"), default=1000
    )
    introduction_voucher_reward = models.ForeignKey(
        Reward,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("introducer's reward (catalog reward)"),
        help_text=_("The voucher the introducer gets, when the reward is a voucher."),
    )
    introduction_points_per_unit = models.DecimalField(
        _("introducer's points per unit of the won value"),
        max_digits=8,
        decimal_places=4,
        default=Decimal("0"),
        help_text=_("When the reward follows the won value: e.g. 0.1 gives 1000 points for 10000."),
    )
    max_rewarded_introductions_per_month = models.PositiveIntegerField(
        _("rewarded introductions per introducer per month"), default=5
    )
    max_introductions_per_day = models.PositiveIntegerField(
        _("introductions per customer per day"), default=5
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at"]
        verbose_name = _("referral program")
        verbose_name_plural = _("referral programs")
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"],
                condition=models.Q(is_active=True),
                name="referral_program_one_active",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.ends_at and self.starts_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("The end must come after the start.")})
        if (
            self.is_active
            and ReferralProgram.objects.filter(is_active=True).exclude(pk=self.pk).exists()
        ):
            raise ValidationError(
                {"is_active": _("Another program is active. Switch it off first.")}
            )
        if (
            self.introduction_reward_kind == IntroductionRewardKind.VOUCHER
            and self.introduction_voucher_reward_id is None
        ):
            raise ValidationError(
                {"introduction_voucher_reward": _("Choose the reward the voucher is for.")}
            )


class Referral(models.Model):
    """A customer (the referee) brought by another (the referrer): one per referee, ever."""

    class Source(models.TextChoices):
        INVITATION = "invitation", _("Invitation")
        LINK = "link", _("Referral link")
        PARTNER = "partner", _("Partner site")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        REVIEW = "review", _("Held for staff review")
        QUALIFIED = "qualified", _("Qualified")
        REWARDED = "rewarded", _("Rewarded")
        REJECTED = "rejected", _("Rejected")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    referrer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="referrals_made")
    referee = models.OneToOneField(
        Customer, on_delete=models.PROTECT, related_name="referral_received"
    )
    program = models.ForeignKey(ReferralProgram, on_delete=models.PROTECT, related_name="referrals")
    source = models.CharField(max_length=12, choices=Source.choices)
    invitation = models.ForeignKey(
        "Invitation", on_delete=models.SET_NULL, null=True, blank=True, related_name="referrals"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(
        _("reason"), max_length=255, blank=True, help_text=_("Why it is held or rejected.")
    )
    conversion = models.ForeignKey(
        "customers.Conversion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The purchase that qualified it."),
    )
    reward_transaction = models.OneToOneField(
        Transaction, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    friend_transaction = models.OneToOneField(
        Transaction, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    friend_voucher = models.OneToOneField(
        Voucher, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    qualified_at = models.DateTimeField(null=True, blank=True)
    rewarded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["referrer", "qualified_at"], name="referral_by_referrer")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(referrer=models.F("referee")), name="referral_not_self"
            ),
        ]
        permissions = [("review_referral", "Can approve or reject a referral held for review")]

    def __str__(self) -> str:
        return f"{self.referrer} → {self.referee} ({self.get_status_display()})"


class Invitation(models.Model):
    """An email invitation from a customer to a friend; its token is stored only as a hash."""

    class Status(models.TextChoices):
        QUEUED = "queued", pgettext_lazy("invitation", "Queued")
        SENT = "sent", pgettext_lazy("invitation", "Sent")
        OPENED = "opened", pgettext_lazy("invitation", "Opened")
        ACCEPTED = "accepted", pgettext_lazy("invitation", "Accepted")
        CONVERTED = "converted", _("Bought")
        EXPIRED = "expired", pgettext_lazy("invitation", "Expired")
        BOUNCED = "bounced", _("Bounced")
        FAILED = "failed", _("Could not be sent")
        CANCELLED = "cancelled", pgettext_lazy("invitation", "Cancelled")

    # Statuses in which the invitation's link still works and it counts as outstanding.
    OPEN_STATUSES = (Status.QUEUED, Status.SENT, Status.OPENED)
    # Statuses from which the sender may send it again (after the cool-down).
    RESENDABLE_STATUSES = (Status.SENT, Status.OPENED, Status.FAILED)

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sender = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("email"))
    email_key = models.CharField(
        max_length=64, db_index=True, help_text=_("Hash of the canonical address.")
    )
    note = models.TextField(_("personal note"), max_length=500, blank=True)
    token_salt = models.CharField(max_length=32, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["sender", "created_at"], name="invitation_by_sender"),
            models.Index(
                fields=["queued_at"],
                condition=models.Q(status="queued"),
                name="invitation_queued",
            ),
        ]
        constraints = [
            # One outstanding invitation per sender and address, also under double submits.
            models.UniqueConstraint(
                fields=["sender", "email_key"],
                condition=models.Q(status__in=["queued", "sent", "opened"]),
                name="invitation_one_open_per_address",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sender} → {self.email} ({self.get_status_display()})"

    @property
    def resend_allowed_at(self) -> datetime | None:
        """When the sender may send it again, or None if its status never allows it: the
        page offers "Resend" only from then, and the service refuses it before."""
        if self.status not in self.RESENDABLE_STATUSES:
            return None
        last = self.sent_at or self.queued_at
        return last + timedelta(hours=settings.INVITATION_RESEND_COOLDOWN_HOURS)


class InvitationRefusal(models.Model):
    """How many addresses of one paste were refused (the addresses are not kept).

    They count against the sender's daily cap as invitations do: an address that is
    looked up costs the same whatever the answer, so a paste is no free probe.
    """

    sender = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    addresses = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["sender", "created_at"], name="invitation_refusal_by_sender")
        ]

    def __str__(self) -> str:
        return f"{self.sender_id}: {self.addresses}"


class SuppressedEmail(models.Model):
    """An address that asked not to be invited again, kept only as a hash."""

    email_key = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("suppressed address")
        verbose_name_plural = _("suppression list")

    def __str__(self) -> str:
        return self.email_key[:12]


class DisposableDomain(models.Model):
    """An email domain that hands out throwaway addresses (staff edit the list)."""

    domain = models.CharField(_("domain"), max_length=253, unique=True)

    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain


class LinkVisit(models.Model):
    """Visits of a referrer's link per day, for the funnel."""

    referrer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    visits = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["referrer", "day"], name="link_visit_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.referrer_id} {self.day}: {self.visits}"


class Introduction(models.Model):
    """A customer introduces a friend who is looking for something to their contact person.

    The friend is asked first: nothing reaches the contact person before their yes. Once
    they said yes, staff move it through the stages; a won one earns the introducer the
    program's reward, held for the program's hold days. Of the friend's address only the
    hash stays once they said no or never answered.
    """

    class Status(models.TextChoices):
        ASKING = "asking", _("Waiting for your friend's answer")
        WITHHELD = "withheld", _("Not sent: we can't ask this friend")
        DECLINED = "declined", _("Your friend said no thanks")
        UNANSWERED = "unanswered", _("Your friend did not answer")
        NEW = "new", pgettext_lazy("introduction stage", "New")
        TALKING = "talking", pgettext_lazy("introduction stage", "Talking")
        WON = "won", pgettext_lazy("introduction stage", "Won")
        LOST = "lost", pgettext_lazy("introduction stage", "Lost")

    # After the friend's yes: the stages staff move it through, in either direction.
    STAGES = (Status.NEW, Status.TALKING, Status.WON, Status.LOST)
    # Statuses in which it is outstanding: the same friend is not introduced twice then.
    OPEN_STATUSES = (Status.ASKING, Status.NEW, Status.TALKING)

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    introducer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="introductions")
    contact_person = models.ForeignKey(
        ContactPerson,
        on_delete=models.PROTECT,
        related_name="introductions",
        verbose_name=_("contact person"),
    )
    program = models.ForeignKey(
        ReferralProgram, on_delete=models.PROTECT, related_name="introductions"
    )
    friend_name = models.CharField(_("friend's name"), max_length=150)
    friend_email = models.EmailField(_("friend's email"), blank=True)
    friend_email_key = models.CharField(
        max_length=64, db_index=True, help_text=_("Hash of the canonical address.")
    )
    friend_was_customer = models.BooleanField(
        default=False, help_text=_("The friend's address was a customer's when introduced.")
    )
    looking_for = models.CharField(_("what they are looking for"), max_length=200)
    note = models.TextField(_("personal note"), max_length=500, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ASKING
    )
    won_value = models.DecimalField(
        _("won value"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    # Each move to won is a new reward: the count keeps their idempotency keys apart.
    won_count = models.PositiveIntegerField(default=0, editable=False)
    reward_transaction = models.OneToOneField(
        Transaction, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reward_voucher = models.OneToOneField(
        Voucher, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reward_reason = models.CharField(
        _("why no reward"), max_length=255, blank=True, help_text=_("A fraud rule's reason.")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    consent_sent_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    contact_emailed_at = models.DateTimeField(null=True, blank=True)
    first_reply_at = models.DateTimeField(
        _("first reply"), null=True, blank=True, help_text=_("When staff first moved it.")
    )
    stage_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("introduction")
        verbose_name_plural = _("introductions")
        indexes = [
            models.Index(fields=["introducer", "created_at"], name="introduction_by_introducer"),
            models.Index(fields=["status", "created_at"], name="introduction_by_status"),
        ]
        constraints = [
            # One outstanding introduction per introducer and friend, also under double submits.
            models.UniqueConstraint(
                fields=["introducer", "friend_email_key"],
                condition=models.Q(status__in=["asking", "new", "talking"]),
                name="introduction_one_open_per_friend",
            ),
        ]
        permissions = [("move_introduction", "Can move an introduction to another stage")]

    def __str__(self) -> str:
        return f"{self.introducer} → {self.friend_name or '…'} ({self.get_status_display()})"


class IntroductionMove(models.Model):
    """A staff member moved an introduction from one stage to another, with a note."""

    introduction = models.ForeignKey(Introduction, on_delete=models.CASCADE, related_name="moves")
    from_status = models.CharField(max_length=10, choices=Introduction.Status.choices)
    to_status = models.CharField(max_length=10, choices=Introduction.Status.choices)
    note = models.TextField(_("note"), max_length=1000)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"
