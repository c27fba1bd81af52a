"""Public subject pages, the customer's own reviews and the NPS survey pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import etag, require_POST

from core.fragments import anonymous_page_etag
from customers.selectors import referral_url
from customers.services import customer_for_user
from reviews.forms import QuestionForm, ReviewForm, SurveyCommentForm, SurveyScoreForm
from reviews.fragments import (
    PUBLISHED_FRAGMENT_SECONDS,
    REVIEWS_BY_FRAGMENT_SECONDS,
    published_version_of,
    reviews_by_version,
)
from reviews.models import Review, Subject, Survey
from reviews.selectors import (
    SORTS,
    helpful_answer_ids,
    helpful_review_ids,
    published_questions,
    published_reviews,
    review_summary,
    reviews_by,
    subjects_with_ratings,
)
from reviews.services import ReviewError, helpful_vote_add, review_create, review_update
from reviews.surveys import (
    SurveyLinkError,
    survey_answer,
    survey_answer_check,
    survey_comment_add,
    survey_from_token,
)

REVIEWS_PER_PAGE = 10
QUESTIONS_PER_PAGE = 5
SORT_LABELS = {
    "newest": gettext_lazy("Newest"),
    "highest": gettext_lazy("Highest rated"),
    "lowest": gettext_lazy("Lowest rated"),
    "helpful": gettext_lazy("Most helpful"),
}


@etag(
    lambda request: anonymous_page_etag(
        request, published_version_of(request), seconds=PUBLISHED_FRAGMENT_SECONDS
    )
)
def subject_list(request):
    return render(
        request,
        "reviews/subject_list.html",
        {
            # Read when the cached list is built afresh (see reviews/fragments.py).
            "subjects": SimpleLazyObject(lambda: list(subjects_with_ratings())),
            "subjects_version": published_version_of(request),
            "subjects_seconds": PUBLISHED_FRAGMENT_SECONDS,
        },
    )


def subject_detail(request, slug: str):
    subject = get_object_or_404(Subject, slug=slug)
    sort = request.GET.get("sort") if request.GET.get("sort") in SORTS else "newest"
    page = Paginator(published_reviews(subject_slug=slug, sort=sort), REVIEWS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    summary = review_summary(subject_slug=slug)
    most = max(summary["distribution"].values()) or 1
    bars = [
        (
            stars,
            summary["distribution"][str(stars)],
            round(100 * summary["distribution"][str(stars)] / most),
        )
        for stars in range(5, 0, -1)
    ]
    customer = customer_for_user(user=request.user) if request.user.is_authenticated else None
    questions = Paginator(published_questions(subject_slug=slug), QUESTIONS_PER_PAGE).get_page(
        request.GET.get("questions_page")
    )
    return render(
        request,
        "reviews/subject_detail.html",
        {
            "subject": subject,
            "summary": summary,
            "bars": bars,
            "page": page,
            "sort": sort,
            "sorts": SORT_LABELS,
            "customer": customer,
            "voted": helpful_review_ids(customer=customer, reviews=page) if customer else set(),
            "questions": questions,
            "question_form": QuestionForm() if customer and subject.is_active else None,
            "voted_answers": helpful_answer_ids(
                customer=customer,
                answers=[answer for question in questions for answer in question.published_answers],
            )
            if customer
            else set(),
            "own_review": Review.objects.filter(author=customer, subject=subject).first()
            if customer
            else None,
        },
    )


@login_required
def review_write(request, slug: str):
    """Write one's review of a subject, or edit it (edits go back through moderation)."""
    subject = get_object_or_404(Subject, slug=slug)
    customer = customer_for_user(user=request.user)
    review = Review.objects.filter(author=customer, subject=subject).first()
    initial = (
        {"rating": review.rating, "title": review.title, "body": review.body} if review else None
    )
    form = ReviewForm(request.POST or None, request.FILES or None, review=review, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if review is None:
                review = review_create(
                    author=customer,
                    subject=subject,
                    rating=data["rating"],
                    title=data["title"],
                    body=data["body"],
                    photos=data["photos"],
                )
            else:
                review = review_update(
                    review=review,
                    rating=data["rating"],
                    title=data["title"],
                    body=data["body"],
                    add_photos=data["photos"],
                    remove_photo_ids=[photo.pk for photo in data.get("remove_photos", [])],
                )
        except ValidationError as error:
            form.add_error(None, error)
        except ReviewError as error:
            form.add_error(None, str(error))
        else:
            if review.status == Review.Status.PUBLISHED:
                messages.success(request, _("Thank you! Your review is published."))
            else:
                messages.success(
                    request, _("Thank you! Your review will appear once we have read it.")
                )
            return redirect("reviews:mine")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "reviews/review_form.html",
        {"subject": subject, "review": review, "form": form},
        status=status,
    )


@login_required
def my_reviews(request):
    customer = customer_for_user(user=request.user)
    return render(
        request,
        "reviews/my_reviews.html",
        {
            # The list is cached under the version of the customer's reviews; they are read
            # only to build it afresh.
            "customer": customer,
            "reviews_version": reviews_by_version(customer=customer),
            "reviews_seconds": REVIEWS_BY_FRAGMENT_SECONDS,
            "reviews": SimpleLazyObject(lambda: reviews_by(customer=customer)),
        },
    )


@login_required
@require_POST
def helpful(request, public_id):
    review = get_object_or_404(Review.objects.select_related("subject"), public_id=public_id)
    try:
        helpful_vote_add(review=review, customer=customer_for_user(user=request.user))
    except ReviewError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Thank you for your vote."))
    return redirect("reviews:subject", slug=review.subject.slug)


def _survey_error(request, error: SurveyLinkError):
    return render(request, "reviews/survey_error.html", {"error": error}, status=error.status)


def survey_click(request, token: str, score: int):
    """A score link from the email: opening it shows that score chosen and one button.

    Mail scanners open every link before the person does, so a GET stores nothing and
    alerts nobody; the person's POST answers, then the comment page shows.
    """
    try:
        survey = survey_from_token(token)
        if request.method == "POST":
            form = SurveyScoreForm(request.POST)
            if form.is_valid():
                survey_answer(survey=survey, score=form.cleaned_data["score"])
                return redirect("reviews:survey_comment", token=token)
        else:
            survey_answer_check(survey=survey, score=score)
            form = SurveyScoreForm(initial={"score": score})
    except SurveyLinkError as error:
        return _survey_error(request, error)
    return render(
        request,
        "reviews/survey_confirm.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


def survey_comment(request, token: str):
    try:
        survey = survey_from_token(token)
    except SurveyLinkError as error:
        return _survey_error(request, error)
    if survey.status != Survey.Status.ANSWERED:
        return _survey_error(
            request,
            SurveyLinkError(_("Please choose a score first."), code="not_answered", status=400),
        )
    form = SurveyCommentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            survey_comment_add(survey=survey, comment=form.cleaned_data["comment"])
        except SurveyLinkError as error:
            return _survey_error(request, error)
        messages.success(request, _("Thank you for telling us."))
        return redirect("reviews:survey_comment", token=token)
    return render(
        request,
        "reviews/survey_thanks.html",
        {
            "survey": survey,
            "form": None if survey.comment else form,
            "promoter": survey.group == Survey.Group.PROMOTER,
            "referral_url": referral_url(customer=survey.customer),
        },
        status=400 if form.errors else 200,
    )
