from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from core.readonly_admin import ReadOnlyAdmin
from loyalty.adjustments import adjustment_decide, adjustment_request
from loyalty.gifts import gift_campaign_create
from loyalty.ledger import LedgerError, transaction_unwind
from loyalty.models import (
    Account,
    AdjustmentRequest,
    EarnRule,
    Entry,
    ExchangeRate,
    ExpiryNotice,
    Gift,
    GiftCampaign,
    Redemption,
    Reward,
    Tier,
    Transaction,
    Voucher,
)
from loyalty.selectors import balance
from loyalty.vouchers import VoucherError, voucher_void


class EntryInline(admin.TabularInline):
    model = Entry
    fields = ["account", "amount"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "settled_balance", "pending_balance", "last_activity_at"]
    list_filter = ["system_code"]
    search_fields = ["customer__user__email", "customer__referral_code"]
    list_select_related = ["customer__user"]


class WrittenOffFilter(admin.SimpleListFilter):
    """The write-off list: reversals that could not take everything back from a customer."""

    title = _("write-off")
    parameter_name = "written_off"

    def lookups(self, request, model_admin):
        return [("yes", _("Has a write-off"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(entries__account__system_code=Account.System.WRITE_OFF)
        return queryset


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))


def _with_reason(model_admin, request, queryset, *, action, title, explanation, change):
    """An admin action that first asks for a reason, then applies `change(obj, reason)`."""
    form = ReasonForm(request.POST if "reason" in request.POST else None)
    if not form.is_valid():
        return TemplateResponse(
            request,
            "admin/loyalty/with_reason.html",
            {
                **model_admin.admin_site.each_context(request),
                "title": title,
                "explanation": explanation,
                "objects": queryset,
                "action": action,
                "form": form,
                "opts": model_admin.model._meta,
            },
        )
    done = 0
    for obj in queryset:
        try:
            change(obj, form.cleaned_data["reason"])
        except (LedgerError, VoucherError) as error:
            model_admin.message_user(request, f"{obj}: {error}", messages.ERROR)
        else:
            done += 1
    model_admin.message_user(request, _("%(count)d done.") % {"count": done})
    return None


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "kind", "status", "memo", "created_at", "settles_at", "posted_at"]
    list_filter = [WrittenOffFilter, "kind", "status", "cause"]
    actions = ["reverse_with_reason"]
    search_fields = [
        "public_id",
        "idempotency_key",
        "cause_ref",
        "entries__account__customer__user__email",
    ]
    date_hierarchy = "created_at"
    inlines = [EntryInline]
    show_full_result_count = False

    def has_reverse_permission(self, request) -> bool:
        return request.user.has_perm("loyalty.reverse_transaction")

    @admin.action(
        description=_("Reverse (or void if pending) with a reason"), permissions=["reverse"]
    )
    def reverse_with_reason(self, request, queryset):
        return _with_reason(
            self,
            request,
            queryset,
            action="reverse_with_reason",
            title=_("Reverse transactions"),
            explanation=_(
                "Posted transactions are reversed; pending ones are voided. A customer never "
                "goes below zero: what they no longer hold is written off."
            ),
            change=lambda txn, reason: transaction_unwind(
                transaction=txn, reason=reason, actor=request.user
            ),
        )


@admin.register(EarnRule)
class EarnRuleAdmin(admin.ModelAdmin):
    """One row of rules: staff edit it, nobody adds a second or deletes it."""

    list_display = [
        "__str__",
        "program_currency",
        "points_per_unit",
        "hold_days",
        "first_review_bonus",
        "answer_bonus",
        "answer_bonus_daily_limit",
        "birthday_gift",
        "inactivity_expiry_months",
        "updated_at",
    ]

    def has_add_permission(self, request):
        return not EarnRule.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    list_display = ["currency", "rate", "updated_at"]
    search_fields = ["currency"]


@admin.register(Tier)
class TierAdmin(admin.ModelAdmin):
    list_display = ["name", "min_points", "min_referrals", "multiplier"]


@admin.register(Reward)
class RewardAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "value", "points_cost", "stock", "is_active", "active_until"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "public_id"]
    readonly_fields = ["public_id", "created_at"]


@admin.register(Redemption)
class RedemptionAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "customer", "reward", "points_spent", "created_at"]
    search_fields = ["public_id", "customer__user__email"]
    list_select_related = ["customer__user", "reward"]


@admin.register(Voucher)
class VoucherAdmin(ReadOnlyAdmin):
    """Vouchers change state only through `loyalty.vouchers` (use, cancel, expire)."""

    list_display = ["code", "customer", "reward", "status", "expires_at", "used_at"]
    list_filter = ["status", "reward"]
    search_fields = ["code", "customer__user__email", "used_order_id"]
    list_select_related = ["customer__user", "reward"]
    actions = ["cancel_and_refund"]

    def has_void_permission(self, request) -> bool:
        return request.user.has_perm("loyalty.void_voucher")

    @admin.action(
        description=_("Cancel and give the points back, with a reason"), permissions=["void"]
    )
    def cancel_and_refund(self, request, queryset):
        return _with_reason(
            self,
            request,
            queryset,
            action="cancel_and_refund",
            title=_("Cancel vouchers"),
            explanation=_("Active vouchers are cancelled and the points spent on them returned."),
            change=lambda voucher, reason: voucher_void(
                voucher=voucher, reason=reason, actor=request.user
            ),
        )


@admin.register(GiftCampaign)
class GiftCampaignAdmin(admin.ModelAdmin):
    """Staff start a campaign here; a Celery task gives the gifts and counts its progress."""

    list_display = ["name", "segment", "points", "reward", "status", "progress", "created_at"]
    list_filter = ["status", "segment"]
    fields = ["name", "points", "reward", "note", "segment", "customer", "tier", "min_referrals"]
    autocomplete_fields = ["customer"]
    readonly_fields = ["status", "total", "done", "stopped_reason", "created_by", "finished_at"]

    @admin.display(description=_("progress"))
    def progress(self, campaign: GiftCampaign) -> str:
        return f"{campaign.done} / {campaign.total}"

    def get_fields(self, request, obj=None):
        return self.fields if obj is None else self.fields + self.readonly_fields

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in self.fields}
        obj.pk = gift_campaign_create(actor=request.user, **fields).pk


@admin.register(Gift)
class GiftAdmin(ReadOnlyAdmin):
    list_display = ["recipient", "sender", "campaign", "points", "reward", "created_at"]
    list_filter = ["campaign"]
    search_fields = ["recipient__user__email", "sender__user__email"]
    list_select_related = ["recipient__user", "sender__user", "campaign", "reward"]


class AdjustmentForm(forms.ModelForm):
    class Meta:
        model = AdjustmentRequest
        fields = ["customer", "points", "reason"]

    def clean(self):
        data = super().clean()
        if data.get("points") == 0:
            self.add_error("points", _("Adjust by at least one point."))
        if "reason" in data and not data["reason"].strip():
            self.add_error("reason", _("A reason is required."))
        points, customer = data.get("points"), data.get("customer")
        if points and points < 0 and customer and balance(customer=customer).settled < -points:
            self.add_error("points", _("The customer holds fewer settled points than that."))
        return data


@admin.register(AdjustmentRequest)
class AdjustmentRequestAdmin(admin.ModelAdmin):
    """The only way staff change points by hand: with a reason, and a second pair of eyes above
    LOYALTY_ADJUSTMENT_APPROVAL_THRESHOLD."""

    form = AdjustmentForm
    list_display = ["customer", "points", "status", "requested_by", "decided_by", "created_at"]
    list_filter = ["status"]
    search_fields = ["customer__user__email", "reason"]
    list_select_related = ["customer__user", "requested_by", "decided_by"]
    autocomplete_fields = ["customer"]
    actions = ["approve", "reject"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["customer", "points", "reason", "status", "requested_by", "decided_by",
                "decided_at", "transaction"]  # fmt: skip

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        adjustment = adjustment_request(actor=request.user, **form.cleaned_data)
        obj.pk, obj.status = adjustment.pk, adjustment.status
        if adjustment.status == AdjustmentRequest.Status.PENDING:
            self.message_user(
                request,
                _("Above the approval limit: a second staff member must approve it."),
                messages.WARNING,
            )

    def _decide(self, request, queryset, *, approve: bool):
        for adjustment in queryset:
            try:
                adjustment_decide(adjustment=adjustment, actor=request.user, approve=approve)
            except LedgerError as error:
                self.message_user(request, f"{adjustment}: {error}", messages.ERROR)
            else:
                self.message_user(request, f"{adjustment}: {adjustment.get_status_display()}")

    def has_decide_permission(self, request) -> bool:
        return request.user.has_perm("loyalty.decide_adjustmentrequest")

    @admin.action(
        description=_("Approve and post the selected adjustments"), permissions=["decide"]
    )
    def approve(self, request, queryset):
        self._decide(request, queryset, approve=True)

    @admin.action(description=_("Reject the selected adjustments"), permissions=["decide"])
    def reject(self, request, queryset):
        self._decide(request, queryset, approve=False)


@admin.register(ExpiryNotice)
class ExpiryNoticeAdmin(ReadOnlyAdmin):
    list_display = ["account", "points", "expires_at", "created_at"]
    search_fields = ["account__customer__user__email"]
    list_select_related = ["account__customer__user"]
