from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from customers.models import Customer
from loyalty.models import Reward


class GiftForm(forms.Form):
    """A gift to someone on the customer's friends list: points or a catalog reward."""

    POINTS, REWARD = "points", "reward"

    friend = forms.ModelChoiceField(label=_("Friend"), queryset=Customer.objects.none())
    what = forms.ChoiceField(
        label=_("Gift"),
        choices=[(POINTS, _("Points")), (REWARD, _("A reward"))],
        widget=forms.RadioSelect,
        initial=POINTS,
    )
    points = forms.IntegerField(label=_("How many points"), min_value=1, required=False)
    reward = forms.ModelChoiceField(
        label=_("Reward"), queryset=Reward.objects.none(), required=False
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("A few words for your friend; they get them by email."),
    )

    def __init__(self, *args, friends: list[Customer], rewards, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["friend"].queryset = Customer.objects.filter(
            pk__in=[f.pk for f in friends]
        ).select_related("user")
        self.fields["friend"].label_from_instance = lambda customer: customer.name
        self.fields["reward"].queryset = rewards

    def clean(self):
        data = super().clean()
        if data.get("what") == self.POINTS and not data.get("points"):
            self.add_error("points", _("How many points would you like to give?"))
        if data.get("what") == self.REWARD and not data.get("reward"):
            self.add_error("reward", _("Choose a reward to give."))
        return data
