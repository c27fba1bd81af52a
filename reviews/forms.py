from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.formats import date_format
from django.utils.functional import lazy
from django.utils.timezone import localtime
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.images import ProcessedImage, process_image
from reviews.models import Review, ReviewPhoto


def _out_of_five_now(n: int) -> str:
    return gettext("%(n)d out of 5") % {"n": n}


_out_of_five = lazy(_out_of_five_now, str)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input (the pattern of Django's file-upload documentation)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        return [super(MultipleFileField, self).clean(item, initial) for item in files]


class StarRatingSelect(forms.RadioSelect):
    """Radio inputs that the portal's form template draws as a row of stars.

    They stay real radio inputs in one group, lowest first, so arrow keys move the
    rating up and down and a screen reader announces each choice by its label.
    """

    stars = True


class ReviewForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("Rating"),
        # Lazy: the label is read in the language of each request, not of the import.
        choices=[(n, _out_of_five(n)) for n in range(1, 6)],
        coerce=int,
        widget=StarRatingSelect,
    )
    title = forms.CharField(label=_("Title"), max_length=120)
    body = forms.CharField(
        label=_("Your review"), max_length=5000, widget=forms.Textarea(attrs={"rows": 6})
    )
    photos = MultipleFileField(
        label=_("Photos"),
        required=False,
        help_text=_("Up to 5 photos in all: JPEG, PNG or WebP, up to 5 MB each."),
    )
    remove_photos = forms.ModelMultipleChoiceField(
        label=_("Remove photos"),
        queryset=ReviewPhoto.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, review: Review | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if review is None or not review.photos.exists():
            del self.fields["remove_photos"]
        else:
            self.fields["remove_photos"].queryset = review.photos.all()
            self.fields["remove_photos"].label_from_instance = lambda photo: (
                _("Photo added %(date)s") % {"date": date_format(localtime(photo.created_at))}
            )

    def clean_photos(self) -> list[ProcessedImage]:
        processed, errors = [], []
        uploads = self.cleaned_data.get("photos") or []
        if len(uploads) > Review.MAX_PHOTOS:
            raise ValidationError(
                _("A review can have at most %(max)d photos.") % {"max": Review.MAX_PHOTOS}
            )
        for upload in uploads:
            try:
                processed.append(process_image(upload))
            except ValidationError as error:
                errors.append(
                    ValidationError(
                        _("%(name)s: %(problem)s")
                        % {"name": upload.name, "problem": " ".join(error.messages)}
                    )
                )
        if errors:
            raise ValidationError(errors)
        return processed


class SurveyCommentForm(forms.Form):
    comment = forms.CharField(
        label=_("Anything you'd like to tell us?"),
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )


class SurveyScoreForm(forms.Form):
    """The score a survey link names, preselected; the person confirms (or changes) it."""

    score = forms.TypedChoiceField(
        label=_("How likely are you to recommend us to a friend? (0 = not at all, 10 = extremely)"),
        choices=[(score, str(score)) for score in range(11)],
        coerce=int,
        widget=forms.RadioSelect,
    )


class QuestionForm(forms.Form):
    body = forms.CharField(
        label=_("Your question"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Customers who bought it and our staff will be asked to answer."),
    )


class AnswerForm(forms.Form):
    body = forms.CharField(
        label=_("Your answer"), max_length=3000, widget=forms.Textarea(attrs={"rows": 4})
    )
