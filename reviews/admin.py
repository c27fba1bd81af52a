"""Staff tools: moderation, replies, the feedback queue, surveys, policy and CSV exports."""

from __future__ import annotations

import csv

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _

from core.readonly_admin import ReadOnlyAdmin
from reviews.alerts import feedback_alert_answer
from reviews.models import (
    Answer,
    FeedbackAlert,
    HelpfulVote,
    Question,
    Review,
    ReviewPhoto,
    ReviewPolicy,
    ReviewReply,
    Subject,
    Survey,
)
from reviews.questions import (
    answer_publish,
    answer_reject,
    question_publish,
    question_reject,
    question_url,
)
from reviews.selectors import nps_by_week, rating_trends
from reviews.services import review_publish, review_reject, review_reply_set


def _csv_response(name: str, header: list[str], rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        # A cell starting with = + - @ would run as a formula in a spreadsheet.
        writer.writerow(
            [f"'{cell}" if isinstance(cell, str) and cell[:1] in "=+-@" else cell for cell in row]
        )
    return response


@admin.register(Subject)
class SubjectAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "kind", "is_active", "created_at"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(ReviewPolicy)
class ReviewPolicyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "auto_publish_high_ratings", "survey_delay_hours"]

    def has_add_permission(self, request):
        return not ReviewPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


class ReviewPhotoInline(admin.TabularInline):
    model = ReviewPhoto
    fields = ["image", "thumbnail", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class ReviewReplyInline(admin.StackedInline):
    model = ReviewReply
    fields = ["body", "author", "updated_at"]
    readonly_fields = ["author", "updated_at"]
    extra = 1
    max_num = 1
    can_delete = False
    verbose_name = _("public reply (signed with your name and photo)")


class ModerationForm(forms.ModelForm):
    decision = forms.ChoiceField(
        label=_("Decision"),
        required=False,
        choices=[("", _("No change")), ("publish", _("Publish")), ("reject", _("Reject"))],
    )

    class Meta:
        model = Review
        fields = ["rejection_reason"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == "reject" and not cleaned.get("rejection_reason", "").strip():
            self.add_error("rejection_reason", _("Tell the author why."))
        return cleaned


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    form = ModerationForm
    list_display = [
        "title",
        "subject",
        "rating",
        "author",
        "status",
        "flagged_words",
        "verified_purchase",
        "incentivised",
        "helpful_count",
        "created_at",
    ]
    list_filter = ["status", "rating", "verified_purchase", "incentivised", "subject"]
    search_fields = ["title", "body", "author__user__email", "subject__name", "flagged_words"]
    list_select_related = ["subject", "author__user"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "public_id",
        "subject",
        "author",
        "rating",
        "title",
        "body",
        "status",
        "flagged_words",
        "verified_purchase",
        "incentivised",
        "helpful_count",
        "moderated_by",
        "moderated_at",
        "published_at",
        "created_at",
        "updated_at",
    ]
    fields = [*readonly_fields[:7], "decision", "rejection_reason", *readonly_fields[7:]]
    inlines = [ReviewPhotoInline, ReviewReplyInline]
    actions = ["publish_selected", "export_csv"]

    def has_add_permission(self, request):
        return False

    def get_fields(self, request, obj=None):
        # Replying needs the change permission; publishing or rejecting needs moderation's.
        if self.has_moderate_permission(request):
            return self.fields
        return [name for name in self.fields if name != "decision"]

    def get_urls(self):
        report = self.admin_site.admin_view(self.report_view)
        return [path("report/", report, name="reviews_report"), *super().get_urls()]

    def report_view(self, request):
        """NPS per week and rating trends per subject, drawn as SVG bars."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        nps = nps_by_week()
        for index, row in enumerate(nps):
            row["x"] = index * 40 + 5
            row["height"] = abs(row["nps"])
            row["y"] = 110 - row["nps"] if row["nps"] >= 0 else 110
        trends = rating_trends()
        for weeks in trends.values():
            for week in weeks:
                week["width"] = round(week["average"] * 40)
        context = {
            **self.admin_site.each_context(request),
            "nps": nps,
            "nps_width": max(len(nps) * 40 + 10, 200),
            "trends": sorted(trends.items()),
            "open_alerts": FeedbackAlert.objects.filter(status=FeedbackAlert.Status.OPEN).count(),
        }
        return TemplateResponse(request, "admin/reviews/report.html", context)

    def save_model(self, request, obj, form, change):
        # Moderation goes through the services, which keep the rules and send the signal.
        moderator = self.has_moderate_permission(request)
        decision = form.cleaned_data.get("decision") if moderator else None
        if decision == "publish":
            review_publish(review=obj, by=request.user)
        elif decision == "reject":
            review_reject(review=obj, by=request.user, reason=form.cleaned_data["rejection_reason"])

    def save_formset(self, request, form, formset, change):
        # Photos are the author's and read-only; the reply goes through its service.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for reply_form in formset.forms:
            body = reply_form.cleaned_data.get("body", "")
            if reply_form.has_changed() and body.strip():
                review_reply_set(review=form.instance, author=request.user, body=body)

    def has_moderate_permission(self, request) -> bool:
        return request.user.has_perm("reviews.moderate_review")

    def has_export_permission(self, request) -> bool:
        return request.user.has_perm("reviews.export_review")

    @admin.action(description=_("Publish selected reviews"), permissions=["moderate"])
    def publish_selected(self, request, queryset):
        published = sum(review_publish(review=review, by=request.user) for review in queryset)
        self.message_user(request, _("%(n)d reviews published.") % {"n": published})

    @admin.action(description=_("Export selected reviews as CSV"), permissions=["export"])
    def export_csv(self, request, queryset):
        rows = queryset.select_related("subject", "author__user").values_list(
            "public_id",
            "subject__slug",
            "author__user__email",
            "rating",
            "title",
            "body",
            "status",
            "verified_purchase",
            "incentivised",
            "helpful_count",
            "created_at",
        )
        header = [
            "id",
            "subject",
            "author_email",
            "rating",
            "title",
            "body",
            "status",
            "verified_purchase",
            "incentivised",
            "helpful_count",
            "created_at",
        ]
        return _csv_response("reviews", header, rows.iterator())


@admin.register(ReviewPhoto)
class ReviewPhotoAdmin(ReadOnlyAdmin):
    list_display = ["review", "image", "created_at"]
    list_select_related = ["review"]


@admin.register(ReviewReply)
class ReviewReplyAdmin(ReadOnlyAdmin):
    list_display = ["review", "author", "created_at", "updated_at"]
    list_select_related = ["review", "author"]


@admin.register(HelpfulVote)
class HelpfulVoteAdmin(ReadOnlyAdmin):
    list_display = ["review", "customer", "created_at"]
    list_select_related = ["review", "customer__user"]


@admin.register(Survey)
class SurveyAdmin(ReadOnlyAdmin):
    list_display = ["conversion", "customer", "status", "score", "send_after", "answered_at"]
    list_filter = ["status", "score"]
    search_fields = ["customer__user__email", "conversion__order_id", "comment"]
    list_select_related = ["conversion", "customer__user"]
    date_hierarchy = "created_at"
    actions = ["export_csv"]

    def has_export_permission(self, request) -> bool:
        return request.user.has_perm("reviews.export_survey")

    @admin.action(description=_("Export selected survey answers as CSV"), permissions=["export"])
    def export_csv(self, request, queryset):
        rows = queryset.values_list(
            "public_id",
            "customer__user__email",
            "conversion__order_id",
            "status",
            "score",
            "comment",
            "sent_at",
            "answered_at",
        )
        header = ["id", "email", "order_id", "status", "score", "comment", "sent_at", "answered_at"]
        return _csv_response("survey-answers", header, rows.iterator())


class FeedbackAlertForm(forms.ModelForm):
    mark_answered = forms.BooleanField(label=_("Mark as answered"), required=False)

    class Meta:
        model = FeedbackAlert
        fields = ["note"]


@admin.register(FeedbackAlert)
class FeedbackAlertAdmin(admin.ModelAdmin):
    """The feedback queue: open alerts first; answering one records who and when."""

    form = FeedbackAlertForm
    list_display = ["__str__", "kind", "status", "created_at", "emailed_at", "answered_by"]
    list_filter = ["status", "kind"]
    search_fields = ["customer__user__email", "note"]
    list_select_related = ["customer__user", "answered_by"]
    readonly_fields = [
        "kind",
        "status",
        "customer",
        "survey",
        "review",
        "emailed_at",
        "answered_by",
        "answered_at",
        "created_at",
    ]
    fields = [*readonly_fields, "note", "mark_answered"]
    actions = ["mark_answered"]

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        FeedbackAlert.objects.filter(pk=obj.pk).update(note=obj.note)
        if form.cleaned_data.get("mark_answered"):
            feedback_alert_answer(alert=obj, by=request.user, note=obj.note)

    @admin.action(description=_("Mark selected alerts as answered"), permissions=["change"])
    def mark_answered(self, request, queryset):
        answered = sum(feedback_alert_answer(alert=alert, by=request.user) for alert in queryset)
        self.message_user(request, _("%(n)d alerts answered.") % {"n": answered}, messages.SUCCESS)


class TextModerationForm(forms.ModelForm):
    """Publish or reject a question or an answer; a rejection needs the reason its author reads."""

    decision = forms.ChoiceField(
        label=_("Decision"),
        required=False,
        choices=[("", _("No change")), ("publish", _("Publish")), ("reject", _("Reject"))],
    )

    class Meta:
        fields = ["rejection_reason"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == "reject" and not cleaned.get("rejection_reason", "").strip():
            self.add_error("rejection_reason", _("Tell the author why."))
        return cleaned


class AnsweredFilter(admin.SimpleListFilter):
    title = _("answered")
    parameter_name = "answered"

    def lookups(self, request, model_admin):
        return [("no", _("Not yet answered")), ("yes", _("Answered"))]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(answered_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(answered_at__isnull=False)
        return queryset


class AnswerInline(admin.TabularInline):
    model = Answer
    fields = ["body", "author", "status", "by_staff", "bought", "helpful_count", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


class _TextModerationAdmin(admin.ModelAdmin):
    """Moderation of a text through its services, which keep the rules and send the signals."""

    form = TextModerationForm
    moderate_permission = ""

    def has_add_permission(self, request):
        return False

    def has_moderate_permission(self, request) -> bool:
        return request.user.has_perm(self.moderate_permission)

    def get_fields(self, request, obj=None):
        if self.has_moderate_permission(request):
            return self.fields
        return [name for name in self.fields if name not in ("decision", "rejection_reason")]

    def save_model(self, request, obj, form, change):
        decision = (
            form.cleaned_data.get("decision") if self.has_moderate_permission(request) else None
        )
        if decision == "publish":
            self.publish(obj, request.user)
        elif decision == "reject":
            self.reject(obj, request.user, form.cleaned_data["rejection_reason"])

    @admin.display(description=_("age"), ordering="created_at")
    def age(self, obj) -> str:
        return timesince(obj.created_at)


@admin.register(Question)
class QuestionAdmin(_TextModerationAdmin):
    """Questions, unanswered and oldest first by default: staff answer on the portal's page."""

    moderate_permission = "reviews.moderate_question"
    list_display = ["__str__", "subject", "author", "status", "age", "answered_at", "flagged_words"]
    list_filter = [AnsweredFilter, "status", "subject"]
    search_fields = ["body", "author__user__email", "subject__name", "flagged_words"]
    list_select_related = ["subject", "author__user"]
    readonly_fields = [
        "public_id",
        "subject",
        "author",
        "body",
        "status",
        "flagged_words",
        "answered_at",
        "moderated_by",
        "moderated_at",
        "published_at",
        "created_at",
        "portal_link",
    ]
    fields = [*readonly_fields[:6], "decision", "rejection_reason", *readonly_fields[6:]]
    inlines = [AnswerInline]

    def get_ordering(self, request):
        return [models.F("answered_at").asc(nulls_first=True), "created_at"]

    @admin.display(description=_("on the portal"))
    def portal_link(self, obj) -> str:
        return format_html(
            '<a href="{}">{}</a>', question_url(obj), _("Open the question to answer it")
        )

    def publish(self, obj, user):
        question_publish(question=obj, by=user)

    def reject(self, obj, user, reason):
        question_reject(question=obj, by=user, reason=reason)


@admin.register(Answer)
class AnswerAdmin(_TextModerationAdmin):
    moderate_permission = "reviews.moderate_answer"
    list_display = [
        "__str__",
        "question",
        "author",
        "status",
        "by_staff",
        "bought",
        "incentivised",
        "helpful_count",
        "flagged_words",
        "created_at",
    ]
    list_filter = ["status", "by_staff", "bought", "incentivised"]
    search_fields = ["body", "author__email", "flagged_words"]
    list_select_related = ["question", "author"]
    readonly_fields = [
        "public_id",
        "question",
        "author",
        "body",
        "status",
        "flagged_words",
        "by_staff",
        "bought",
        "incentivised",
        "helpful_count",
        "moderated_by",
        "moderated_at",
        "published_at",
        "created_at",
    ]
    fields = [*readonly_fields[:6], "decision", "rejection_reason", *readonly_fields[6:]]

    def publish(self, obj, user):
        answer_publish(answer=obj, by=user)

    def reject(self, obj, user, reason):
        answer_reject(answer=obj, by=user, reason=reason)
