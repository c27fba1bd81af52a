"""Partner sites, their API keys, the customers they may see, idempotency records, webhooks."""

from __future__ import annotations

import secrets
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import AbstractAPIKey

from customers.models import Customer


def webhook_secret_generate() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


def publishable_key_generate() -> str:
    return f"pk_{secrets.token_urlsafe(24)}"


def widget_secret_generate() -> str:
    return f"wsec_{secrets.token_urlsafe(32)}"


def validate_origins(value: str) -> None:
    """One origin a line, as a browser sends it: scheme, host and port, no path."""
    wrong = [
        line
        for line in value.split()
        if urlsplit(line).scheme not in ("http", "https")
        or not urlsplit(line).hostname
        or urlsplit(line).path.strip("/")
        or urlsplit(line).query
    ]
    if wrong:
        raise ValidationError(
            _("Not an origin (https://shop.example.com, without a path): %(lines)s"),
            params={"lines": ", ".join(wrong)},
        )


class Partner(models.Model):
    """A site that talks to Kindred through the API (the shop, a booking site, a merchant).

    The business's own sites link a customer at once; a merchant (a partner business)
    links a member only after the person says yes, so that knowing an email address never
    gives a merchant a member's points, history or account.
    """

    class Kind(models.TextChoices):
        OWN = "own", _("The business's own site")
        MERCHANT = "merchant", _("Merchant (links a member only with their yes)")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=150, unique=True)
    kind = models.CharField(
        _("kind"),
        max_length=10,
        choices=Kind.choices,
        default=Kind.MERCHANT,
        help_text=_(
            "A merchant sees a member only after the member says yes by email; "
            "the business's own sites link customers at once."
        ),
    )
    active = models.BooleanField(
        _("active"), default=True, help_text=_("An inactive partner's keys are refused.")
    )
    webhook_url = models.URLField(_("webhook URL"), blank=True)
    webhook_secret = models.CharField(
        _("webhook secret"),
        max_length=100,
        default=webhook_secret_generate,
        help_text=_("Signs every webhook (Kindred-Signature header); share it with the partner."),
    )
    # After a rotation the old secret signs too (a second v1= in the header) until it
    # expires, so the partner can switch over without refusing a genuine webhook.
    previous_webhook_secret = models.CharField(
        _("previous webhook secret"), max_length=100, blank=True, editable=False
    )
    previous_webhook_secret_expires_at = models.DateTimeField(
        _("previous webhook secret signs until"), null=True, blank=True, editable=False
    )
    webhook_secret_rotated_at = models.DateTimeField(
        _("webhook secret rotated"), null=True, blank=True, editable=False
    )
    webhook_secret_rotated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("webhook secret rotated by"),
    )
    contact_name = models.CharField(_("contact name"), max_length=150, blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    publishable_key = models.CharField(
        _("widget publishable key"),
        max_length=64,
        unique=True,
        default=publishable_key_generate,
        help_text=_(
            "Goes in the widget's snippet on the partner's pages: it reads public data and "
            "starts the widget, never writes."
        ),
    )
    widget_secret = models.CharField(
        _("widget signing secret"),
        max_length=100,
        default=widget_secret_generate,
        help_text=_("The partner's server signs customer tokens with it; it never goes on a page."),
    )
    widget_origins = models.TextField(
        _("widget origins"),
        blank=True,
        validators=[validate_origins],
        help_text=_(
            "The partner's sites that may show the widget, one origin a line "
            "(https://shop.example.com); no other site gets an answer."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("partner")
        verbose_name_plural = _("partners")

    def __str__(self) -> str:
        return self.name

    @property
    def widget_origin_list(self) -> list[str]:
        return [line.strip().rstrip("/") for line in self.widget_origins.split() if line.strip()]


class PartnerAPIKey(AbstractAPIKey):
    """A key a partner authenticates with; only its hash is stored, the prefix finds it."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="api_keys")
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("partner API key")
        verbose_name_plural = _("partner API keys")


class PartnerCustomer(models.Model):
    """A customer a partner created or linked through the API: what the partner may see.

    A merchant's link starts pending and becomes active only with the person's yes; a no,
    no answer in time, or the merchant's redaction ends it. An own site's link is active
    from the start.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the person's yes")
        ACTIVE = "active", _("Active")
        ENDED = "ended", _("Ended")

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="customer_links")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="partner_links")
    external_id = models.CharField(_("partner's customer id"), max_length=255)
    status = models.CharField(
        _("link"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    created_customer = models.BooleanField(
        _("created the customer"),
        default=False,
        editable=False,
        help_text=_("The person was not a member when the link was asked for."),
    )
    requested_at = models.DateTimeField(_("yes asked for"), null=True, blank=True, editable=False)
    request_sent_at = models.DateTimeField(
        _("request emailed"), null=True, blank=True, editable=False
    )
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True, editable=False)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("partner customer link")
        verbose_name_plural = _("partner customer links")
        constraints = [
            models.UniqueConstraint(fields=["partner", "customer"], name="partner_customer_once"),
            models.UniqueConstraint(
                fields=["partner", "external_id"], name="partner_external_id_once"
            ),
        ]
        indexes = [
            models.Index(
                fields=["requested_at"],
                condition=models.Q(status="pending"),
                name="partner_link_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partner}: {self.external_id}"


class IdempotencyRecord(models.Model):
    """A POST claimed under an Idempotency-Key, then the response to replay.

    The unique constraint on (partner, key) is the claim: whoever inserts the
    row runs the request, across threads, processes and machines.
    """

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", _("In progress")
        COMPLETED = "completed", _("Completed")

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    claimed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(fields=["partner", "key"], name="idempotency_key_once"),
        ]

    def __str__(self) -> str:
        return f"{self.partner_id}: {self.key}"


class WebhookEvent(models.Model):
    """Something a partner is told about, written in the same transaction as the change
    (an outbox); delivered and retried by `partners.webhooks`. The public id is the
    event's `id`, the same on every attempt, so the partner can drop duplicates."""

    class Type(models.TextChoices):
        REFERRAL_QUALIFIED = "referral.qualified", "referral.qualified"
        REWARD_SETTLED = "reward.settled", "reward.settled"
        REWARD_VOIDED = "reward.voided", "reward.voided"
        VOUCHER_ISSUED = "voucher.issued", "voucher.issued"
        REWARD_REVERSED = "reward.reversed", "reward.reversed"
        REVIEW_PUBLISHED = "review.published", "review.published"
        CUSTOMER_LINKED = "customer.linked", "customer.linked"
        CUSTOMER_LINK_ENDED = "customer.link_ended", "customer.link_ended"

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for delivery")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed (gave up)")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="webhook_events")
    type = models.CharField(max_length=32, choices=Type.choices)
    data = models.JSONField(encoder=DjangoJSONEncoder)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="webhook_event_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} → {self.partner} ({self.public_id})"


class WebhookDelivery(models.Model):
    """One attempt to deliver an event: what the partner answered, or the error."""

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    attempt = models.PositiveIntegerField()
    url = models.URLField(max_length=500)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField()
    succeeded = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook delivery attempt")
        verbose_name_plural = _("webhook delivery attempts")

    def __str__(self) -> str:
        return f"#{self.attempt} {self.response_status or self.error[:40]}"
