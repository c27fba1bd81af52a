from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from customers.images import ProcessedImage, process_image
from customers.models import Connection, ContactPerson, Conversion, Customer, User
from customers.services import contact_person_photo_set


class CustomerInline(admin.StackedInline):
    model = Customer
    can_delete = False
    fk_name = "user"
    readonly_fields = ["referral_code", "public_id", "created_at"]
    autocomplete_fields = ["contact_person"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active", "date_joined"]
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


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "referral_code",
        "contact_person",
        "marketing_consent",
        "created_at",
    ]
    list_filter = ["marketing_consent", "preferred_channel", "contact_person"]
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
        "created_at",
    ]
    autocomplete_fields = ["user", "contact_person"]
    date_hierarchy = "created_at"


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
