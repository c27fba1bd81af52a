"""Staff see unanswered questions with their age, and moderate questions and answers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from reviews.models import Answer, Question, ReviewPolicy
from reviews.questions import answer_create
from tests.factories import CustomerFactory
from tests.reviews.factories import QuestionFactory
from tests.support import login_with_second_factor

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_superuser(email="boss@example.com", password="x")


@pytest.fixture
def staff_client(client, staff):
    login_with_second_factor(client, staff)
    return client


def _inline(**fields) -> dict:
    return {
        "answers-TOTAL_FORMS": "0",
        "answers-INITIAL_FORMS": "0",
        "answers-MIN_NUM_FORMS": "0",
        "answers-MAX_NUM_FORMS": "1000",
        **fields,
    }


def test_unanswered_questions_come_first_with_their_age(staff_client):
    old = QuestionFactory(body="Old and unanswered")
    Question.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
    answered = QuestionFactory(body="Answered already")
    answer_create(question=answered, author=CustomerFactory().user, body="Yes.")
    QuestionFactory(body="New and unanswered")
    page = staff_client.get(reverse("admin:reviews_question_changelist")).content.decode()
    assert page.index("Old and unanswered") < page.index("New and unanswered")
    assert page.index("New and unanswered") < page.index("Answered already")
    assert "3\xa0days" in page
    unanswered = staff_client.get(
        reverse("admin:reviews_question_changelist"), {"answered": "no"}
    ).content.decode()
    assert "Old and unanswered" in unanswered and "Answered already" not in unanswered


def test_a_moderator_publishes_a_flagged_question_or_rejects_it_with_a_reason(staff_client):
    ReviewPolicy.objects.filter(pk=ReviewPolicy.current().pk).update(banned_words="scam")
    question = QuestionFactory(status=Question.Status.PENDING, flagged_words="scam")
    url = reverse("admin:reviews_question_change", args=[question.pk])
    refused = staff_client.post(url, _inline(decision="reject", rejection_reason=""))
    assert refused.status_code == 200 and "Tell the author why." in refused.content.decode()
    question.refresh_from_db()
    assert question.status == Question.Status.PENDING
    staff_client.post(url, _inline(decision="reject", rejection_reason="Please be kind."))
    question.refresh_from_db()
    assert (question.status, question.rejection_reason) == ("rejected", "Please be kind.")
    assert question.author.notices.get().kind == "question_rejected"
    staff_client.post(url, _inline(decision="publish", rejection_reason=""))
    question.refresh_from_db()
    assert question.status == Question.Status.PUBLISHED and question.published_at


def test_a_moderator_publishes_a_held_answer_and_the_question_counts_as_answered(staff_client):
    ReviewPolicy.objects.filter(pk=ReviewPolicy.current().pk).update(banned_words="rubbish")
    question = QuestionFactory()
    answer = answer_create(question=question, author=CustomerFactory().user, body="Rubbish? No.")
    assert answer.status == Answer.Status.PENDING
    staff_client.post(
        reverse("admin:reviews_answer_change", args=[answer.pk]),
        {"decision": "publish", "rejection_reason": ""},
    )
    answer.refresh_from_db()
    question.refresh_from_db()
    assert answer.status == Answer.Status.PUBLISHED
    assert question.answered_at == answer.published_at
    assert question.author.notices.get().kind == "question_answered"


def test_support_sees_questions_but_only_marketing_moderates():
    support = set(Group.objects.get(name="Support").permissions.values_list("codename", flat=True))
    marketing = set(
        Group.objects.get(name="Marketing").permissions.values_list("codename", flat=True)
    )
    assert {"view_question", "view_answer"} <= support
    assert not {"moderate_question", "moderate_answer"} & support
    assert {"moderate_question", "moderate_answer"} <= marketing
