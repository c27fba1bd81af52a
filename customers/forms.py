from __future__ import annotations

import hashlib

from django import forms
from django.forms.models import model_to_dict
from django.utils.translation import gettext_lazy as _

from core.images import ProcessedImage, process_image
from core.validators import validate_printable
from customers.models import Connection, ConsentRecord, Customer
from customers.services import customer_profile_update


class SignupExtraForm(forms.Form):
    """Extra fields on allauth's signup form."""

    first_name = forms.CharField(
        label=_("First name"), max_length=150, validators=[validate_printable]
    )
    last_name = forms.CharField(
        label=_("Last name"), max_length=150, required=False, validators=[validate_printable]
    )
    marketing_consent = forms.BooleanField(
        label=_("Send me news and offers by email (you can stop any time)"), required=False
    )

    def signup(self, request, user):
        customer_profile_update(
            customer=user.customer,
            marketing_consent=self.cleaned_data["marketing_consent"],
            source=ConsentRecord.Source.SIGNUP,
        )


class ProfileForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = [
            "display_name",
            "phone",
            "birthday",
            "interests",
            "preferred_channel",
            "language",
            "marketing_consent",
            "notification_emails",
            "community_emails",
        ]
        widgets = {"birthday": forms.DateInput(attrs={"type": "date"})}
        help_texts = {
            "display_name": _("How we greet you; leave empty to use your name."),
            "birthday": _("Optional: we like to send a small gift."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["display_name"].validators.append(validate_printable)
        self.fields["language"].choices = [
            ("", _("Your browser's language")),
            *Customer.Language.choices,
        ]


def profile_form_digest(customer: Customer) -> str:
    """The customer's values that the unbound profile form shows, as a digest: a rendering
    of the form cached under it is right whatever changed the profile (the form, the
    language switcher, staff, erasure), with no version to drop."""
    values = model_to_dict(customer, fields=ProfileForm._meta.fields)
    return hashlib.sha256(repr(sorted(values.items())).encode()).hexdigest()


class AvatarForm(forms.Form):
    avatar = forms.FileField(
        label=_("New photo"),
        help_text=_("JPEG, PNG or WebP, up to 5 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )

    def clean_avatar(self) -> ProcessedImage:
        return process_image(self.cleaned_data["avatar"], size=(512, 512), thumb=(96, 96))


class FriendRequestForm(forms.Form):
    email = forms.EmailField(label=_("Their email address"))
    relation = forms.ChoiceField(
        label=_("They are my"), choices=Connection.Relation.choices, initial="friend"
    )


class AccountDeleteForm(forms.Form):
    """Erasure cannot be undone: the customer confirms with their password."""

    password = forms.CharField(
        label=_("Your password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("That is not your password."))
        return password
