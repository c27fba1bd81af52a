from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from loyalty.gifts import gift_campaign_create
from loyalty.models import (
    Account,
    EarnRule,
    Entry,
    ExchangeRate,
    Gift,
    GiftCampaign,
    Redemption,
    Reward,
    Tier,
    Transaction,
    Voucher,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """The ledger is written by `loyalty.ledger` only; the admin shows it."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "kind", "status", "memo", "created_at", "settles_at", "posted_at"]
    list_filter = ["kind", "status", "cause"]
    search_fields = [
        "public_id",
        "idempotency_key",
        "cause_ref",
        "entries__account__customer__user__email",
    ]
    date_hierarchy = "created_at"
    inlines = [EntryInline]
    show_full_result_count = False


@admin.register(EarnRule)
class EarnRuleAdmin(admin.ModelAdmin):
    """One row of rules: staff edit it, nobody adds a second or deletes it."""

    list_display = [
        "__str__",
        "program_currency",
        "points_per_unit",
        "hold_days",
        "first_review_bonus",
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
