from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.readonly_admin import ReadOnlyAdmin
from referrals.models import (
    DisposableDomain,
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
    autocomplete_fields = ["friend_reward"]
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
