from __future__ import annotations

from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from referrals.invitations import MAX_ADDRESSES


class InviteForm(forms.Form):
    addresses = forms.CharField(
        label=_("Your friends' email addresses"),
        widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "off"}),
        help_text=lazy(
            lambda: (
                gettext("Separate them with commas, spaces or new lines (up to %(max)d).")
                % {"max": MAX_ADDRESSES}
            ),
            str,
        )(),
    )
    note = forms.CharField(
        label=_("A personal note (optional)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=500,
        required=False,
    )


class IntroductionForm(forms.Form):
    friend_name = forms.CharField(label=_("Your friend's name"), max_length=150)
    friend_email = forms.EmailField(label=_("Your friend's email address"), max_length=254)
    looking_for = forms.CharField(
        label=_("What they are looking for"),
        max_length=200,
        help_text=_("For example: a new kitchen, a family car."),
    )
    note = forms.CharField(
        label=_("A personal note (optional)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=500,
        required=False,
    )
