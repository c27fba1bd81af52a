import dataclasses
import re

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from customers.imports import import_progress, import_report_lines
from customers.models import CustomerImport
from partners.imports import (
    customer_import_cancel,
    customer_import_confirm,
    customer_import_create,
)
from partners.models import (
    IdempotencyRecord,
    Partner,
    PartnerAPIKey,
    PartnerCustomer,
    WebhookDelivery,
    WebhookEvent,
)
from partners.webhooks import webhook_resend, webhook_secret_rotate
from partners.widget.services import widget_keys_rotate

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
    readonly_fields = ["public_id", "webhook_secret", "previous_webhook_secret",
                       "previous_webhook_secret_expires_at", "webhook_secret_rotated_at",
                       "webhook_secret_rotated_by", "publishable_key", "widget_secret",
                       "created_at"]  # fmt: skip
    fieldsets = [
        (None, {"fields": ["public_id", "name", "kind", "active", "contact_name",
                           "contact_email", "created_at"]}),
        (_("Webhooks"), {"fields": ["webhook_url", "webhook_secret", "previous_webhook_secret",
                                     "previous_webhook_secret_expires_at",
                                     "webhook_secret_rotated_at",
                                     "webhook_secret_rotated_by"]}),
        (
            _("Widget"),
            {
                "fields": ["publishable_key", "widget_secret", "widget_origins"],
                "description": _(
                    "The snippet for the partner's pages carries the publishable key; its "
                    "server signs customer tokens with the secret (docs/widget.md). "
                    "Rotate both with the action on the partner list."
                ),
            },
        ),
    ]  # fmt: skip
    inlines = [PartnerAPIKeyInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    actions = ["rotate_webhook_secret", "rotate_widget_keys"]

    @admin.action(
        description=_("Rotate the webhook secret (the old one signs too until it expires)"),
        permissions=["change"],
    )
    def rotate_webhook_secret(self, request, queryset):
        for partner in queryset:
            webhook_secret_rotate(partner=partner, actor=request.user)
            self.log_change(request, partner, _("Rotated the webhook secret."))
        count = len(queryset)
        self.message_user(
            request,
            ngettext(
                "%(count)d partner has a new webhook secret; the old one signs too for "
                "%(hours)d hours. Give the partner the new one.",
                "%(count)d partners have a new webhook secret; the old ones sign too for "
                "%(hours)d hours. Give each partner the new one.",
                count,
            )
            % {"count": count, "hours": settings.PARTNER_WEBHOOK_SECRET_OVERLAP_HOURS},
            messages.SUCCESS,
        )

    @admin.action(
        description=_("Rotate the widget keys (the old ones stop working)"),
        permissions=["change"],
    )
    def rotate_widget_keys(self, request, queryset):
        for partner in queryset:
            widget_keys_rotate(partner=partner, staff=request.user, path=request.path)
        self.message_user(
            request,
            ngettext(
                "New widget keys for %d partner: give them the new snippet and secret.",
                "New widget keys for %d partners: give them the new snippet and secret.",
                len(queryset),
            )
            % len(queryset),
            messages.SUCCESS,
        )


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


class CustomerImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "UTF-8, separated by commas or semicolons, the first line naming the columns: "
            "email (required), first name, last name, phone, language, partner, partner id, "
            "opening balance, contact person, marketing consent, consent date, consent source."
        ),
    )
    source = forms.SlugField(
        label=_("Source"),
        max_length=50,
        initial="import",
        help_text=CustomerImport._meta.get_field("source").help_text,
    )
    send_welcome = forms.BooleanField(
        label=_("Send a welcome email"),
        required=False,
        help_text=CustomerImport._meta.get_field("send_welcome").help_text,
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.CUSTOMER_IMPORT_MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than the import accepts."))
        return upload


@admin.register(CustomerImport)
class CustomerImportAdmin(admin.ModelAdmin):
    """Upload, preview, confirm and follow an import; every import's outcome stays listed.

    The pages only read the import's row and call `customers.imports` and
    `partners.imports`; the work is the Celery tasks'.
    """

    list_display = [
        "file_name",
        "source",
        "status",
        "total_rows",
        "created_count",
        "matched_count",
        "rejected_count",
        "balances_posted",
        "balances_differing",
        "created_by",
        "created_at",
    ]
    list_filter = ["status", "source"]
    search_fields = ["file_name", "source"]
    list_select_related = ["created_by"]
    date_hierarchy = "created_at"

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        def view(function):
            return self.admin_site.admin_view(function)

        name = "customers_customerimport_"
        return [
            path("<int:pk>/confirm/", view(self.confirm_view), name=name + "confirm"),
            path("<int:pk>/cancel/", view(self.cancel_view), name=name + "cancel"),
            path("<int:pk>/progress/", view(self.progress_view), name=name + "progress"),
            path("<int:pk>/report/", view(self.report_view), name=name + "report"),
            *super().get_urls(),
        ]

    def _import_or_404(self, request, pk: int, *, confirming: bool = False) -> CustomerImport:
        allowed = (
            self.has_add_permission(request) if confirming else self.has_view_permission(request)
        )
        customer_import = CustomerImport.objects.filter(pk=pk).first()
        if customer_import is None or not allowed:
            raise Http404
        return customer_import

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = CustomerImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            customer_import = customer_import_create(
                upload=form.cleaned_data["file"],
                source=form.cleaned_data["source"],
                send_welcome=form.cleaned_data["send_welcome"],
                created_by=request.user,
            )
            return redirect("admin:customers_customerimport_change", customer_import.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "title": _("Import customers"),
        }
        return TemplateResponse(request, "admin/customers/customerimport/upload.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        customer_import = (
            CustomerImport.objects.filter(pk=object_id).first() if object_id.isdigit() else None
        )
        if customer_import is None:
            # The admin's own answer for an id that is gone: back to the list, with a message.
            return super().change_view(request, object_id, form_url, extra_context)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "customer_import": customer_import,
            "progress": import_progress(customer_import),
            "preview": customer_import.preview,
            "can_confirm": self.has_add_permission(request),
            "title": _("Import of %(name)s") % {"name": customer_import.file_name},
        }
        return TemplateResponse(request, "admin/customers/customerimport/status.html", context)

    def confirm_view(self, request, pk: int):
        customer_import = self._import_or_404(request, pk, confirming=True)
        if request.method != "POST":
            return redirect("admin:customers_customerimport_change", pk)
        if customer_import_confirm(customer_import=customer_import):
            self.message_user(request, _("The import has started."), messages.SUCCESS)
        else:
            self.message_user(request, _("This import was not waiting to start."), messages.WARNING)
        return redirect("admin:customers_customerimport_change", pk)

    def cancel_view(self, request, pk: int):
        customer_import = self._import_or_404(request, pk, confirming=True)
        if request.method == "POST" and customer_import_cancel(customer_import=customer_import):
            self.message_user(request, _("The import was cancelled."), messages.SUCCESS)
        return redirect("admin:customers_customerimport_change", pk)

    def progress_view(self, request, pk: int):
        progress = import_progress(self._import_or_404(request, pk))
        return JsonResponse(dataclasses.asdict(progress))

    def report_view(self, request, pk: int):
        customer_import = self._import_or_404(request, pk)
        response = StreamingHttpResponse(
            import_report_lines(customer_import), content_type="text/csv; charset=utf-8"
        )
        # Only safe characters from a name the uploader chose go into the header.
        stem = re.sub(r"[^\w.-]", "_", customer_import.file_name.rsplit(".", 1)[0])
        response["Content-Disposition"] = f'attachment; filename="{stem}-rejected.csv"'
        return response
