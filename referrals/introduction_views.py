"""Pages of warm introductions: the customer's form and list, and the friend's yes or no."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from customers.services import customer_for_user
from referrals.forms import IntroductionForm
from referrals.introductions import (
    IntroductionError,
    introduction_answer,
    introduction_by_token,
    introduction_create,
)
from referrals.models import Introduction
from referrals.selectors import introductions_of

PAGE_SIZE = 20


@login_required
@require_http_methods(["GET", "POST"])
def introductions(request: HttpRequest) -> HttpResponse:
    """Introduce a friend to one's contact person, and follow one's introductions."""
    customer = customer_for_user(user=request.user)
    form = IntroductionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            introduction = introduction_create(introducer=customer, **form.cleaned_data)
        except IntroductionError as error:
            form.add_error(error.field, str(error))
        else:
            if introduction.status == Introduction.Status.WITHHELD:
                # The same words whatever the cause: the introducer learns nothing more.
                messages.error(
                    request,
                    _("We can't ask %(name)s to meet us.") % {"name": introduction.friend_name},
                )
                return redirect("referrals:introductions")
            messages.success(
                request,
                _("We asked %(name)s by email; your contact hears from us after their yes.")
                % {"name": form.cleaned_data["friend_name"]},
            )
            return redirect("referrals:introductions")
    page = Paginator(introductions_of(customer=customer), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "referrals/introductions/list.html",
        {
            "form": form,
            "contact": customer.contact_person,
            "page_obj": page,
            "introductions": page.object_list,
        },
        status=400 if form.errors else 200,
    )


# Opening the link only shows the question: mail scanners open links before people do,
# so the answer is a POST.
@require_http_methods(["GET", "POST"])
def introduction_answer_page(request: HttpRequest, token: str) -> HttpResponse:
    introduction = introduction_by_token(token)
    if introduction is None:
        return render(request, "referrals/introductions/link_invalid.html", status=404)
    if introduction.status != Introduction.Status.ASKING:
        return _answered(request, introduction, again=True)
    if request.method == "POST":
        answer = request.POST.get("answer")
        if answer not in ("yes", "no"):
            return render(
                request,
                "referrals/introductions/consent.html",
                {"introduction": introduction, "error": True},
                status=400,
            )
        outcome = introduction_answer(introduction_id=introduction.pk, accept=answer == "yes")
        return _answered(request, outcome.introduction, again=not outcome.recorded)
    return render(request, "referrals/introductions/consent.html", {"introduction": introduction})


def _answered(request: HttpRequest, introduction: Introduction, *, again: bool) -> HttpResponse:
    return render(
        request,
        "referrals/introductions/answered.html",
        {
            "introduction": introduction,
            "accepted": introduction.status in Introduction.STAGES,
            "again": again,
            "contact": introduction.contact_person,
        },
    )
