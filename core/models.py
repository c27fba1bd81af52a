"""The email outbox: every email the portal sends is a row first (see `core.outbox`)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboxEmail(models.Model):
    """One email to one address, stored in the transaction that asked for it.

    The message is kept as it was rendered (in the recipient's language at that moment),
    so every attempt sends the same bytes under the same `message_id`: a copy that
    arrives twice is recognisable as one email.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    message_id = models.CharField(_("Message-ID"), max_length=200, unique=True)
    to = models.CharField(_("to"), max_length=254)
    from_email = models.CharField(_("from"), max_length=300)
    subject = models.TextField(_("subject"))
    body = models.TextField()
    html = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    # A worker sending it holds it until then; a dead worker's claim runs out.
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbox email")
        verbose_name_plural = _("outbox emails")
        ordering = ["-created_at", "-pk"]
        permissions = [("resend_outboxemail", _("Can resend outbox emails"))]
        indexes = [
            # The sweeper and the age of the oldest waiting email read pending rows only.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="outbox_email_due",
            ),
            models.Index(fields=["status", "created_at"], name="outbox_email_status"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to}"
