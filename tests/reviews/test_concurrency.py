"""Races with real threads and commits: the database constraints and compare-and-swap decide."""

from __future__ import annotations

import pytest
from django.utils import timezone

from loyalty.models import EarnRule, Transaction
from reviews.models import Answer, FeedbackAlert, HelpfulVote, Review, Survey
from reviews.questions import QuestionError, answer_bonus_grant, answer_create
from reviews.services import ReviewError, helpful_vote_add, review_create
from reviews.surveys import SurveyLinkError, survey_answer
from tests.factories import CustomerFactory, purchase
from tests.loyalty.helpers import run_in_threads
from tests.reviews.factories import QuestionFactory, ReviewFactory, SubjectFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_helpful_votes_at_once_count_exactly_and_a_double_click_counts_once():
    review = ReviewFactory()
    voters = [CustomerFactory() for _ in range(6)]
    results = run_in_threads(8, lambda i: helpful_vote_add(review=review, customer=voters[i % 6]))
    refused = [r for r in results if isinstance(r, ReviewError)]
    assert len(refused) == 2, results
    review.refresh_from_db()
    assert review.helpful_count == 6 == HelpfulVote.objects.count()


def test_two_submissions_of_the_same_review_at_once_store_one():
    author, subject = CustomerFactory(), SubjectFactory()
    results = run_in_threads(
        4,
        lambda i: review_create(
            author=author, subject=subject, rating=5, title=f"Take {i}", body="Same click."
        ),
    )
    assert sum(isinstance(r, Review) for r in results) == 1, results
    assert all(isinstance(r, Review | ReviewError) for r in results), results
    assert Review.objects.count() == 1


def test_two_clicks_on_a_survey_at_once_store_one_answer_and_one_alert():
    customer = CustomerFactory(marketing_consent=True)
    survey = Survey.objects.create(
        conversion=purchase(customer),
        customer=customer,
        send_after=timezone.now(),
        status=Survey.Status.SENT,
    )
    results = run_in_threads(4, lambda i: survey_answer(survey=survey, score=i))
    assert sum(isinstance(r, Survey) for r in results) == 1, results
    assert sum(isinstance(r, SurveyLinkError) for r in results) == 3
    survey.refresh_from_db()
    assert survey.status == Survey.Status.ANSWERED
    assert FeedbackAlert.objects.count() == 1


def test_answers_rewarded_at_once_stop_at_the_daily_cap():
    EarnRule.objects.update_or_create(pk=1, defaults={"answer_bonus_daily_limit": 2})
    anna = CustomerFactory()
    answers = [
        answer_create(question=QuestionFactory(), author=anna.user, body="Yes.") for _ in range(5)
    ]
    results = run_in_threads(5, lambda i: answer_bonus_grant(answer_id=answers[i].pk))
    assert sorted(results) == [False, False, False, True, True], results
    assert Transaction.objects.filter(kind=Transaction.Kind.ANSWER_BONUS).count() == 2


def test_two_answers_by_one_person_at_once_store_one():
    question, anna = QuestionFactory(), CustomerFactory()
    results = run_in_threads(
        4, lambda i: answer_create(question=question, author=anna.user, body=f"Take {i}")
    )
    assert sum(isinstance(r, Answer) for r in results) == 1, results
    assert all(isinstance(r, Answer | QuestionError) for r in results), results
    assert Answer.objects.count() == 1
