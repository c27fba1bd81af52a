"""Pages of questions and answers: asking on a subject's page, a question with its answers
(the link in the ask-to-answer email), answering and helpful votes."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from customers.services import customer_for_user
from reviews import questions
from reviews.forms import AnswerForm, QuestionForm
from reviews.models import Answer, Question, Subject
from reviews.selectors import helpful_answer_ids, question_with_answers


@login_required
def ask(request, slug: str):
    """Ask about a subject; the form sits on the subject's page and posts here."""
    subject = get_object_or_404(Subject, slug=slug)
    form = QuestionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            question = questions.question_ask(
                author=customer_for_user(user=request.user),
                subject=subject,
                body=form.cleaned_data["body"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        except questions.QuestionError as error:
            form.add_error(None, str(error))
        else:
            if question.status == Question.Status.PUBLISHED:
                messages.success(
                    request, _("Your question is published. We will tell you when someone answers.")
                )
            else:
                messages.success(
                    request, _("Thank you! Your question will appear once we have read it.")
                )
            return redirect("reviews:question", public_id=question.public_id)
    return render(
        request,
        "reviews/question_form.html",
        {"subject": subject, "form": form},
        status=400 if request.method == "POST" else 200,
    )


def _question_page(request, question: Question, form: AnswerForm | None, *, status: int = 200):
    customer = customer_for_user(user=request.user) if request.user.is_authenticated else None
    own = customer is not None and question.author_id == customer.pk
    answered = (
        customer is not None
        and Answer.objects.filter(question=question, author=request.user).first()
    )
    can_answer = (
        customer is not None
        and not own
        and not answered
        and question.status == Question.Status.PUBLISHED
    )
    return render(
        request,
        "reviews/question_detail.html",
        {
            "question": question,
            "subject": question.subject,
            "customer": customer,
            "own_question": own,
            "own_answer": answered or None,
            # A refused answer shows with its reason, whoever sent it.
            "form": form if form is not None else AnswerForm() if can_answer else None,
            "voted_answers": helpful_answer_ids(
                customer=customer, answers=question.published_answers
            )
            if customer
            else set(),
        },
        status=status,
    )


def _visible_question(request, public_id) -> Question:
    """A published question, or one of one's own in any state; anything else is not found."""
    try:
        question = question_with_answers(public_id=public_id)
    except Question.DoesNotExist:
        raise Http404 from None
    if question.status != Question.Status.PUBLISHED and not (
        request.user.is_authenticated and question.author.user_id == request.user.pk
    ):
        raise Http404
    return question


def question_detail(request, public_id):
    return _question_page(request, _visible_question(request, public_id), None)


@login_required
@require_POST
def answer_write(request, public_id):
    question = _visible_question(request, public_id)
    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            answer = questions.answer_create(
                question=question, author=request.user, body=form.cleaned_data["body"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        except questions.QuestionError as error:
            form.add_error(None, str(error))
        else:
            if answer.status == Answer.Status.PUBLISHED:
                messages.success(request, _("Thank you for your answer!"))
            else:
                messages.success(
                    request, _("Thank you! Your answer will appear once we have read it.")
                )
            return redirect("reviews:question", public_id=question.public_id)
    return _question_page(request, question, form, status=400)


@login_required
@require_POST
def answer_helpful(request, public_id):
    answer = get_object_or_404(Answer.objects.select_related("question"), public_id=public_id)
    try:
        questions.answer_vote_add(answer=answer, customer=customer_for_user(user=request.user))
    except questions.QuestionError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Thank you for your vote."))
    return redirect("reviews:question", public_id=answer.question.public_id)
