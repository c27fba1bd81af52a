"""The email outbox in the admin: what waits, what failed and why, and a resend.

An email's body is not shown: it may carry a password-reset or sign-in link.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.models import OutboxEmail
from core.outbox import outbox_emails_resend
from core.readonly_admin import ReadOnlyAdmin


@admin.register(OutboxEmail)
class OutboxEmailAdmin(ReadOnlyAdmin):
    list_display = ["subject", "to", "status", "attempts", "next_attempt_at", "created_at",
                    "sent_at"]  # fmt: skip
    list_filter = ["status"]
    search_fields = ["to", "message_id"]
    date_hierarchy = "created_at"
    fields = ["message_id", "to", "from_email", "subject", "status", "attempts",
              "next_attempt_at", "last_error", "created_at", "sent_at"]  # fmt: skip
    readonly_fields = fields
    actions = ["resend"]

    def has_resend_permission(self, request) -> bool:
        return request.user.has_perm("core.resend_outboxemail")

    @admin.action(
        description=_("Send the selected undelivered emails again now"), permissions=["resend"]
    )
    def resend(self, request, queryset):
        count = outbox_emails_resend(emails=queryset)
        self.message_user(
            request,
            ngettext("%d email queued to be sent.", "%d emails queued to be sent.", count) % count,
            messages.SUCCESS,
        )
