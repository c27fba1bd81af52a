"""Questions and answers in a customer's data export and erasure."""

from __future__ import annotations

import pytest

from customers.privacy import customer_erase, personal_data_sections
from reviews.models import Answer, AnswerRequest, AnswerVote, Question
from reviews.questions import answer_create, answer_requests_send, answer_vote_add
from tests.factories import CustomerFactory, purchase
from tests.reviews.factories import QuestionFactory, SubjectFactory

pytestmark = pytest.mark.django_db


def _section(customer) -> dict:
    return next(s for s in personal_data_sections(customer=customer) if s.name == "reviews")


def test_the_export_holds_ones_questions_answers_votes_and_requests():
    beans = SubjectFactory(slug="house-blend")
    anna = CustomerFactory(community_emails=True)
    purchase(anna, subject_slug="house-blend")
    asked = QuestionFactory(subject=beans, author=anna, body="Decaf too?")
    other = QuestionFactory(subject=beans)
    answer_requests_send(question_id=other.pk)
    answer_create(question=other, author=anna.user, body="Yes, and good.")
    answer_vote_add(
        answer=answer_create(question=asked, author=CustomerFactory().user, body="No."),
        customer=anna,
    )
    records = _section(anna).records
    assert [q["body"] for q in records["questions"]] == ["Decaf too?"]
    assert [(a["body"], a["bought"]) for a in records["answers"]] == [("Yes, and good.", True)]
    assert len(records["answer_votes"]) == 1
    assert [r["question__public_id"] for r in records["asked_to_answer"]] == [other.public_id]


def test_erasure_deletes_questions_and_answers_and_the_question_is_unanswered_again():
    beans = SubjectFactory()
    anna, ben = CustomerFactory(), CustomerFactory()
    own = QuestionFactory(subject=beans, author=anna)
    bens = QuestionFactory(subject=beans, author=ben)
    answer = answer_create(question=bens, author=anna.user, body="Anna says yes.")
    bens_answer = answer_create(question=own, author=ben.user, body="Ben says no.")
    answer_vote_add(answer=answer_create(question=bens, author=CustomerFactory().user, body="Hm"),
                    customer=anna)  # fmt: skip
    AnswerRequest.objects.create(question=bens, recipient=anna.user)

    assert customer_erase(customer=anna, source="customer")

    assert not Question.objects.filter(pk=own.pk).exists()
    assert not Answer.objects.filter(pk__in=[answer.pk, bens_answer.pk]).exists()
    assert not AnswerVote.objects.filter(customer=anna).exists()
    assert not AnswerRequest.objects.filter(recipient=anna.user).exists()
    remaining = Answer.objects.get(question=bens)
    assert remaining.helpful_count == 0
    bens.refresh_from_db()
    assert bens.answered_at == remaining.published_at
