import functools

from allauth.account import admin as account_admin
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Exists, OuterRef, Q
from django.http import FileResponse, Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_celery_beat import admin as beat_admin
from django_celery_beat.models import PeriodicTask

from core.images import ProcessedImage, process_image
from core.readonly_admin import ReadOnlyAdmin
from customers.models import (
    Connection,
    ConsentRecord,
    ContactPerson,
    Conversion,
    Customer,
    DataExport,
    StaffAccess,
    User,
)
from customers.privacy import customer_erase, data_export_request, staff_access_record
from customers.services import contact_person_photo_set, staff_second_factor_reset


class PersonalDataAdmin(admin.ModelAdmin):
    """Opening or saving a customer's record in the admin leaves a line in the access trail.

    Deleting is not offered: a customer is erased (anonymised) so the books stay whole.
    """

    def customer_of(self, obj) -> Customer | None:
        return obj

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        obj = self.get_object(request, object_id)
        customer = self.customer_of(obj) if obj is not None else None
        if customer is not None and getattr(response, "status_code", 200) < 400:
            action = (
                StaffAccess.Action.CHANGE if request.method == "POST" else StaffAccess.Action.VIEW
            )
            staff_access_record(
                staff=request.user, customer=customer, action=action, path=request.path
            )
        return response

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class CustomerInline(admin.StackedInline):
    model = Customer
    can_delete = False
    fk_name = "user"
    readonly_fields = ["referral_code", "public_id", "created_at"]
    autocomplete_fields = ["contact_person"]


@admin.register(User)
class UserAdmin(PersonalDataAdmin, BaseUserAdmin):
    ordering = ["email"]
    list_display = [
        "email",
        "first_name",
        "last_name",
        "is_staff",
        "second_factor",
        "is_active",
        "date_joined",
    ]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["email", "first_name", "last_name", "customer__referral_code"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Personal info"), {"fields": ["first_name", "last_name"]}),
        (
            _("Permissions"),
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        (_("Important dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]}),
    ]

    actions = ["reset_second_factor"]

    def get_queryset(self, request):
        second_factors = Authenticator.objects.filter(
            user=OuterRef("pk"),
            type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN],
        )
        return super().get_queryset(request).annotate(has_second_factor=Exists(second_factors))

    @admin.display(boolean=True, description=_("second factor"), ordering="has_second_factor")
    def second_factor(self, obj) -> bool:
        return obj.has_second_factor

    def customer_of(self, obj) -> Customer | None:
        return Customer.objects.filter(user=obj).first()

    def has_reset_second_factor_permission(self, request) -> bool:
        # Not a grantable permission: a group that could reset second factors could
        # also hand a stolen staff password the admin.
        return request.user.is_superuser

    @admin.action(
        description=_("Reset second factor (they set up a new one at their next login)"),
        permissions=["reset_second_factor"],
    )
    def reset_second_factor(self, request, queryset):
        for member in queryset:
            staff_second_factor_reset(superuser=request.user, member=member, path=request.path)
        self.message_user(
            request,
            ngettext(
                "The second factor of %(count)d account was reset.",
                "The second factors of %(count)d accounts were reset.",
                queryset.count(),
            )
            % {"count": queryset.count()},
            messages.SUCCESS,
        )


class AccountKindFilter(admin.SimpleListFilter):
    """Staff get a customer profile when they open the portal, yet they are not customers:
    the list leaves them out unless asked."""

    title = _("account")
    parameter_name = "account"

    def lookups(self, request, model_admin):
        return [("staff", _("Staff members")), ("all", _("Everyone"))]

    def choices(self, changelist):
        # The default (no parameter) is "customers only", so it gets a name of its own.
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": _("Customers"),
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        if self.value() == "staff":
            return queryset.filter(user__is_staff=True)
        if self.value() == "all":
            return queryset
        return queryset.filter(user__is_staff=False)


@admin.register(Customer)
class CustomerAdmin(PersonalDataAdmin):
    list_display = [
        "__str__",
        "referral_code",
        "contact_person",
        "marketing_consent",
        "created_at",
    ]
    list_filter = [AccountKindFilter, "marketing_consent", "preferred_channel", "contact_person"]
    search_fields = [
        "user__email",
        "user__first_name",
        "user__last_name",
        "display_name",
        "referral_code",
        "phone",
    ]
    list_select_related = ["user", "contact_person"]
    readonly_fields = [
        "public_id",
        "referral_code",
        "avatar",
        "avatar_thumbnail",
        "marketing_consent_at",
        "erased_at",
        "created_at",
    ]
    autocomplete_fields = ["user", "contact_person"]
    date_hierarchy = "created_at"
    actions = ["export_data", "erase"]

    def get_readonly_fields(self, request, obj=None):
        # The login owns the loyalty account: moving it would hand the points to someone else.
        fields = super().get_readonly_fields(request, obj)
        return fields if obj is None else [*fields, "user"]

    def has_export_permission(self, request) -> bool:
        return request.user.has_perm("customers.export_customer")

    def has_erase_permission(self, request) -> bool:
        return request.user.has_perm("customers.erase_customer")

    @admin.action(
        description=_("Prepare a data export (archive of everything held)"),
        permissions=["export"],
    )
    def export_data(self, request, queryset):
        for customer in queryset:
            data_export_request(
                customer=customer, source=DataExport.Source.STAFF, requested_by=request.user
            )
        self.message_user(
            request,
            _("Exports queued; they appear under Data exports when ready."),
            messages.SUCCESS,
        )

    @admin.action(description=_("Erase personal data (cannot be undone)"), permissions=["erase"])
    def erase(self, request, queryset):
        staff = Q(user__is_staff=True) | Q(user__is_superuser=True)
        if not request.user.is_superuser and queryset.filter(staff).exists():
            # Erasing a customer also ends their login: a staff login is a superuser's to end.
            self.message_user(
                request,
                _("Staff members are erased by a superuser only; they were left out."),
                messages.WARNING,
            )
            queryset = queryset.exclude(staff)
            if not queryset.exists():
                return None
        if request.POST.get("confirmed") != "yes":
            return TemplateResponse(
                request,
                "admin/customers/customer/erase_confirmation.html",
                {
                    **self.admin_site.each_context(request),
                    "customers": queryset,
                    "action": "erase",
                    "opts": self.model._meta,
                    "title": _("Erase personal data"),
                },
            )
        erased = sum(
            customer_erase(customer=customer, source="staff", actor=request.user)
            for customer in queryset
        )
        self.message_user(
            request,
            ngettext("%d customer erased.", "%d customers erased.", erased) % erased,
            messages.SUCCESS,
        )
        return None


class ContactPersonForm(forms.ModelForm):
    photo_upload = forms.FileField(
        label=_("Photo"), required=False, help_text=_("JPEG, PNG or WebP, up to 5 MB.")
    )

    class Meta:
        model = ContactPerson
        fields = ["user", "name", "role", "bio", "email", "phone", "is_active"]

    def clean_photo_upload(self) -> ProcessedImage | None:
        upload = self.cleaned_data.get("photo_upload")
        return process_image(upload, size=(400, 400), thumb=(120, 120)) if upload else None


@admin.register(ContactPerson)
class ContactPersonAdmin(admin.ModelAdmin):
    form = ContactPersonForm
    list_display = ["name", "role", "email", "phone", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "role", "email"]
    readonly_fields = ["photo"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # The photo goes through the same pipeline as customers' avatars.
        if form.cleaned_data.get("photo_upload"):
            contact_person_photo_set(contact=obj, photo=form.cleaned_data["photo_upload"])


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    list_display = ["requester", "addressee", "relation", "status", "created_at"]
    list_filter = ["status", "relation"]
    search_fields = [
        "requester__user__email",
        "addressee__user__email",
        "requester__referral_code",
        "addressee__referral_code",
    ]
    list_select_related = ["requester__user", "addressee__user"]
    raw_id_fields = ["requester", "addressee"]

    def get_readonly_fields(self, request, obj=None):
        """Who asked whom is fixed once made: moving a connection would hand one person's
        friends list to another."""
        fields = super().get_readonly_fields(request, obj)
        return [*fields, "requester", "addressee"] if obj is not None else fields


@admin.register(Conversion)
class ConversionAdmin(admin.ModelAdmin):
    list_display = [
        "order_id",
        "customer",
        "amount",
        "currency",
        "status",
        "channel",
        "occurred_at",
    ]
    list_filter = ["status", "currency", "channel"]
    search_fields = ["order_id", "customer__user__email", "customer__referral_code"]
    list_select_related = ["customer__user"]
    date_hierarchy = "occurred_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ReadOnlyAdmin):
    list_display = ["customer", "topic", "granted", "source", "recorded_at"]
    list_filter = ["topic", "granted", "source"]
    search_fields = ["customer__user__email", "customer__referral_code"]
    list_select_related = ["customer__user"]


@admin.register(DataExport)
class DataExportAdmin(admin.ModelAdmin):
    list_display = ["customer", "source", "status", "progress", "requested_by", "created_at"]
    list_filter = ["status", "source"]
    search_fields = ["customer__user__email", "customer__referral_code"]
    list_select_related = ["customer__user", "requested_by"]
    readonly_fields = ["download"]
    fields = ["customer", "source", "status", "progress", "error", "download", "finished_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("archive"))
    def download(self, obj) -> str:
        if obj.status != DataExport.Status.READY:
            return "-"
        url = reverse("admin:customers_dataexport_download", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download"))

    def get_urls(self):
        return [
            path(
                "<int:pk>/download/",
                self.admin_site.admin_view(self.download_view),
                name="customers_dataexport_download",
            ),
            *super().get_urls(),
        ]

    def download_view(self, request, pk: int):
        export = DataExport.objects.filter(pk=pk, status=DataExport.Status.READY).first()
        if not self.has_view_permission(request, export) or export is None or not export.archive:
            raise Http404
        staff_access_record(
            staff=request.user,
            customer=export.customer,
            action=StaffAccess.Action.EXPORT,
            path=request.path,
        )
        return FileResponse(export.archive.open("rb"), as_attachment=True)


@admin.register(StaffAccess)
class StaffAccessAdmin(ReadOnlyAdmin):
    """The trail itself: superusers only, and nobody edits it."""

    list_display = ["at", "staff", "action", "customer", "path"]
    list_filter = ["action", "staff"]
    search_fields = ["staff__email", "customer__public_id", "path"]
    list_select_related = ["staff", "customer__user"]
    date_hierarchy = "at"

    def has_module_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser


def _requiring(permission: str, action):
    """A library's admin action, offered only to staff who hold `permission` on its model.

    Django offers an action that declares no permission to anyone who can see the list.
    """

    @functools.wraps(action)
    def guarded(model_admin, request, queryset):
        return action(model_admin, request, queryset)

    guarded.allowed_permissions = (permission,)
    return guarded


class EmailAddressAdmin(account_admin.EmailAddressAdmin):
    """allauth's, with its action guarded: a verified address is how a login is recovered."""

    make_verified = _requiring("change", account_admin.EmailAddressAdmin.make_verified)


class PeriodicTaskAdmin(beat_admin.PeriodicTaskAdmin):
    """django-celery-beat's, with its actions guarded: they start and stop the settlement runs."""

    enable_tasks = _requiring("change", beat_admin.PeriodicTaskAdmin.enable_tasks)
    disable_tasks = _requiring("change", beat_admin.PeriodicTaskAdmin.disable_tasks)
    toggle_tasks = _requiring("change", beat_admin.PeriodicTaskAdmin.toggle_tasks)
    run_tasks = _requiring("change", beat_admin.PeriodicTaskAdmin.run_tasks)


for _model, _model_admin in [(EmailAddress, EmailAddressAdmin), (PeriodicTask, PeriodicTaskAdmin)]:
    admin.site.unregister(_model)
    admin.site.register(_model, _model_admin)

# A second factor is removed only through the user admin's reset, which superusers alone
# may run and which is written to the access trail; allauth's own admin would bypass both.
admin.site.unregister(Authenticator)
