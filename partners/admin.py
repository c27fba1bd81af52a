from django.contrib import admin, messages
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from partners.models import (
    IdempotencyRecord,
    Partner,
    PartnerAPIKey,
    PartnerCustomer,
    WebhookDelivery,
    WebhookEvent,
)
from partners.webhooks import webhook_resend

# Partners authenticate with PartnerAPIKey; the library's own key model is unused.
admin.site.unregister(APIKey)


class PartnerAPIKeyInline(admin.TabularInline):
    model = PartnerAPIKey
    fields = ["prefix", "name", "created", "last_used_at", "expiry_date", "revoked"]
    readonly_fields = ["prefix", "name", "created", "last_used_at", "expiry_date", "revoked"]
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "active", "webhook_url", "contact_name", "created_at"]
    list_filter = ["kind", "active"]
    search_fields = ["name", "contact_name", "contact_email"]
    readonly_fields = ["public_id", "webhook_secret", "created_at"]
    inlines = [PartnerAPIKeyInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(PartnerAPIKey)
class PartnerAPIKeyAdmin(APIKeyModelAdmin):
    """Keys are shown once, when created here; staff revoke a key by ticking `revoked`."""

    list_display = [*APIKeyModelAdmin.list_display, "partner", "last_used_at"]
    list_filter = ["partner", "revoked"]
    search_fields = ["name", "prefix", "partner__name"]
    list_select_related = ["partner"]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "last_used_at"]


@admin.register(PartnerCustomer)
class PartnerCustomerAdmin(admin.ModelAdmin):
    """Links are made through the API (a merchant's only with the person's yes), so staff
    read them here and cannot point one at another customer or partner."""

    list_display = ["external_id", "partner", "customer", "status", "created_at"]
    list_filter = ["status", "partner"]
    readonly_fields = ["partner", "customer", "status", "requested_at", "request_sent_at",
                       "answered_at", "ended_at"]  # fmt: skip
    search_fields = ["external_id", "customer__user__email"]
    list_select_related = ["partner", "customer__user"]

    def has_add_permission(self, request):
        return False


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    """Written by the API only; shown to staff who investigate a partner's retries."""

    list_display = ["key", "partner", "status", "response_status", "created_at"]
    list_filter = ["status", "partner"]
    search_fields = ["key"]
    list_select_related = ["partner"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class WebhookDeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    fields = ["attempt", "created_at", "url", "response_status", "duration_ms", "error"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    """The outbox: every event, its attempts, and a resend for staff."""

    list_display = ["public_id", "type", "partner", "status", "attempts", "next_attempt_at",
                    "created_at"]  # fmt: skip
    list_filter = ["status", "type", "partner"]
    search_fields = ["public_id"]
    list_select_related = ["partner"]
    readonly_fields = ["public_id", "partner", "type", "data", "status", "attempts",
                       "next_attempt_at", "created_at", "delivered_at"]  # fmt: skip
    inlines = [WebhookDeliveryInline]
    actions = ["resend"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Resend the selected events now"), permissions=["view"])
    def resend(self, request, queryset):
        count = webhook_resend(events=queryset)
        self.message_user(
            request,
            ngettext("%d event queued for delivery.", "%d events queued for delivery.", count)
            % count,
            messages.SUCCESS,
        )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["event", "attempt", "response_status", "succeeded", "duration_ms",
                    "created_at"]  # fmt: skip
    list_filter = ["succeeded", "event__partner"]
    list_select_related = ["event__partner"]
    readonly_fields = ["event", "attempt", "url", "response_status", "error", "duration_ms",
                       "succeeded", "created_at"]  # fmt: skip

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
