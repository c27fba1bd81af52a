from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from core.readonly_admin import ReadOnlyAdmin
from customers.admin import PersonalDataAdmin
from referrals.introductions import IntroductionError, introduction_move
from referrals.models import (
    DisposableDomain,
    Introduction,
    IntroductionMove,
    Invitation,
    LinkVisit,
    Referral,
    ReferralProgram,
    SuppressedEmail,
)
from referrals.services import ReviewError, referral_review


@admin.register(ReferralProgram)
class ReferralProgramAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "is_active",
        "starts_at",
        "ends_at",
        "referrer_points",
        "friend_points",
        "qualifying_event",
        "hold_days",
    ]
    list_filter = ["is_active", "qualifying_event"]
    autocomplete_fields = ["friend_reward", "introduction_voucher_reward"]
    fieldsets = [
        (None, {"fields": ["name", "is_active", "starts_at", "ends_at"]}),
        (
            _("Rewards"),
            {"fields": ["referrer_points", "friend_points", "friend_reward", "friend_offer"]},
        ),
        (
            _("Qualification"),
            {
                "fields": [
                    "qualifying_event",
                    "minimum_purchase",
                    "minimum_currency",
                    "hold_days",
                    "attribution_window_days",
                ]
            },
        ),
        (_("Caps"), {"fields": ["max_rewarded_per_month", "max_invitations_per_day"]}),
        (
            _("Warm introductions"),
            {
                "fields": [
                    "introduction_reward_kind",
                    "introduction_points",
                    "introduction_voucher_reward",
                    "introduction_points_per_unit",
                    "max_rewarded_introductions_per_month",
                    "max_introductions_per_day",
                ]
            },
        ),
    ]


class ReviewFilter(admin.SimpleListFilter):
    title = _("review queue")
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [("review", _("Waiting for review"))]

    def queryset(self, request, queryset):
        if self.value() == "review":
            return queryset.filter(status=Referral.Status.REVIEW)
        return queryset


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdmin):
    """The staff review queue: approve or reject referrals that a fraud rule held."""

    list_display = [
        "referrer",
        "referee",
        "source",
        "status",
        "reason",
        "created_at",
        "qualified_at",
    ]
    list_filter = [ReviewFilter, "status", "source", "program"]
    search_fields = [
        "referrer__user__email",
        "referee__user__email",
        "referrer__referral_code",
        "public_id",
    ]
    list_select_related = ["referrer__user", "referee__user"]
    date_hierarchy = "created_at"
    actions = ["approve", "reject"]

    def has_review_permission(self, request) -> bool:
        return request.user.has_perm("referrals.review_referral")

    def _review(self, request, queryset, *, approve: bool) -> None:
        done = 0
        for referral in queryset:
            verdict = "Approved" if approve else "Rejected"
            reason = f"{verdict} by {request.user} after review: {referral.reason}"
            try:
                referral_review(
                    referral=referral, approve=approve, staff=request.user, reason=reason
                )
                done += 1
            except ReviewError as error:
                self.message_user(request, f"{referral}: {error}", messages.WARNING)
        if done:
            self.message_user(
                request,
                ngettext("%(count)d referral reviewed.", "%(count)d referrals reviewed.", done)
                % {"count": done},
            )

    @admin.action(description=_("Approve the selected held referrals"), permissions=["review"])
    def approve(self, request, queryset):
        self._review(request, queryset, approve=True)

    @admin.action(
        description=_("Reject the selected held referrals (final)"), permissions=["review"]
    )
    def reject(self, request, queryset):
        self._review(request, queryset, approve=False)


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    list_display = ["sender", "email", "status", "attempts", "last_error", "created_at", "sent_at"]
    list_filter = ["status"]
    search_fields = ["email", "sender__user__email"]
    list_select_related = ["sender__user"]
    date_hierarchy = "created_at"
    exclude = ["token_hash", "token_salt"]


@admin.register(SuppressedEmail)
class SuppressedEmailAdmin(ReadOnlyAdmin):
    list_display = ["email_key", "created_at"]
    search_fields = ["email_key"]


@admin.register(DisposableDomain)
class DisposableDomainAdmin(admin.ModelAdmin):
    list_display = ["domain"]
    search_fields = ["domain"]


@admin.register(LinkVisit)
class LinkVisitAdmin(ReadOnlyAdmin):
    list_display = ["referrer", "day", "visits"]
    list_select_related = ["referrer__user"]
    date_hierarchy = "day"


class IntroductionMoveInline(admin.TabularInline):
    model = IntroductionMove
    fields = ["at", "from_status", "to_status", "note", "staff"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class IntroductionQueueFilter(admin.SimpleListFilter):
    """The staff queue: introductions the friend said yes to, still being worked on."""

    title = _("queue")
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [("open", _("Said yes, not won or lost yet"))]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(
                status__in=[Introduction.Status.NEW, Introduction.Status.TALKING]
            )
        return queryset


class MoveForm(forms.Form):
    stage = forms.ChoiceField(
        label=_("Move to"),
        choices=[(stage.value, stage.label) for stage in Introduction.STAGES],
    )
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}))
    won_value = forms.DecimalField(
        label=_("Won value"),
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
        help_text=_("For a win, when the introducer's reward follows the won value."),
    )


@admin.register(Introduction)
class IntroductionAdmin(PersonalDataAdmin, ReadOnlyAdmin):
    """The staff queue of introductions; staff move them through the stages with a note."""

    list_display = [
        "friend_name",
        "introducer",
        "contact_person",
        "looking_for",
        "status",
        "answered_at",
        "first_reply_at",
        "reward_reason",
    ]
    list_filter = [IntroductionQueueFilter, "status", "contact_person"]
    search_fields = ["friend_name", "introducer__user__email", "public_id"]
    list_select_related = ["introducer__user", "contact_person"]
    date_hierarchy = "created_at"
    exclude = ["friend_email_key"]
    inlines = [IntroductionMoveInline]
    actions = ["move_stage"]

    def customer_of(self, obj):
        return obj.introducer

    def has_move_permission(self, request) -> bool:
        return request.user.has_perm("referrals.move_introduction")

    @admin.action(description=_("Move to another stage, with a note"), permissions=["move"])
    def move_stage(self, request, queryset):
        form = MoveForm(request.POST if "note" in request.POST else None)
        if not form.is_valid():
            return TemplateResponse(
                request,
                "admin/referrals/introduction_move.html",
                {
                    **self.admin_site.each_context(request),
                    "title": gettext("Move introductions"),
                    "objects": queryset,
                    "form": form,
                    "opts": self.model._meta,
                },
            )
        moved = 0
        for introduction in queryset:
            try:
                introduction_move(
                    introduction_id=introduction.pk,
                    to_status=form.cleaned_data["stage"],
                    staff=request.user,
                    note=form.cleaned_data["note"],
                    won_value=form.cleaned_data["won_value"],
                    path=request.path,
                )
            except IntroductionError as error:
                self.message_user(request, f"{introduction}: {error}", messages.ERROR)
            else:
                moved += 1
        if moved:
            self.message_user(
                request,
                ngettext("%(count)d introduction moved.", "%(count)d introductions moved.", moved)
                % {"count": moved},
            )
        return None
