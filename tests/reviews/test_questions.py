"""Questions and answers: asking, answering, labels, moderation, votes, points and emails."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from customers.models import Customer
from loyalty.models import EarnRule, Transaction
from reviews.models import Answer, AnswerRequest, AnswerVote, Question, ReviewPolicy
from reviews.questions import (
    QuestionError,
    answer_asker_tell,
    answer_bonus_grant,
    answer_create,
    answer_reject,
    answer_requests_send,
    answer_vote_add,
    question_ask,
    question_reject,
)
from tests.factories import ContactPersonFactory, CustomerFactory, purchase
from tests.reviews.factories import QuestionFactory, ReviewFactory, SubjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return get_user_model().objects.create_user(
        email="sam@example.com", first_name="Sam", is_staff=True
    )


@pytest.fixture
def beans():
    return SubjectFactory(name="House blend", slug="house-blend")


def _ban(*words: str) -> None:
    ReviewPolicy.objects.filter(pk=ReviewPolicy.current().pk).update(banned_words="\n".join(words))


def _buyer(subject, **fields) -> Customer:
    customer = CustomerFactory(community_emails=True, **fields)
    purchase(customer, subject_slug=subject.slug)
    return customer


# Asking


def test_a_question_is_published_at_once_and_asks_for_answers_with_it(beans):
    buyer = _buyer(beans)
    question = question_ask(author=CustomerFactory(), subject=beans, body="  Espresso?  ")
    assert question.status == Question.Status.PUBLISHED and question.body == "Espresso?"
    assert [message.to for message in mail.outbox] == [[buyer.user.email]]


def test_a_question_with_a_banned_word_waits_and_asks_nobody(
    beans, django_capture_on_commit_callbacks
):
    _ban("scam")
    with django_capture_on_commit_callbacks() as callbacks:
        question = question_ask(author=CustomerFactory(), subject=beans, body="Is it a SCAM?")
    assert question.status == Question.Status.PENDING and question.flagged_words == "scam"
    assert callbacks == []


@pytest.mark.parametrize("body", ["", "   ", "x" * 1001])
def test_an_empty_or_long_question_is_refused_and_nothing_written(beans, body):
    with pytest.raises(ValidationError) as refused:
        question_ask(author=CustomerFactory(), subject=beans, body=body)
    assert "body" in refused.value.message_dict
    assert not Question.objects.exists()


def test_a_question_about_a_closed_subject_is_refused():
    closed = SubjectFactory(is_active=False)
    with pytest.raises(QuestionError) as refused:
        question_ask(author=CustomerFactory(), subject=closed, body="Still sold?")
    assert refused.value.code == "subject_closed" and not Question.objects.exists()


def test_a_moderator_rejects_a_question_with_a_reason_the_author_reads(beans, staff):
    _ban("idiot")
    question = question_ask(author=CustomerFactory(), subject=beans, body="Which idiot made it?")
    with pytest.raises(ValidationError):
        question_reject(question=question, by=staff, reason="  ")
    assert question_reject(question=question, by=staff, reason="Please be kind.")
    assert not question_reject(question=question, by=staff, reason="Again")
    question.refresh_from_db()
    assert question.status == Question.Status.REJECTED
    notice = question.author.notices.get()
    assert notice.text == ("Your question about House blend was not published: Please be kind.")


# Answering


def test_an_answer_to_ones_own_question_is_refused(beans):
    question = QuestionFactory(subject=beans)
    with pytest.raises(QuestionError) as refused:
        answer_create(question=question, author=question.author.user, body="I think so.")
    assert refused.value.code == "own_question" and not Answer.objects.exists()


def test_a_second_answer_by_the_same_person_is_refused(beans):
    question, anna = QuestionFactory(subject=beans), CustomerFactory()
    answer_create(question=question, author=anna.user, body="Yes.")
    with pytest.raises(QuestionError) as refused:
        answer_create(question=question, author=anna.user, body="Yes, really.")
    assert refused.value.code == "already_answered"
    assert Answer.objects.count() == 1


@pytest.mark.parametrize("status", [Question.Status.PENDING, Question.Status.REJECTED])
def test_an_unpublished_question_takes_no_answer(beans, status):
    question = QuestionFactory(subject=beans, status=status)
    with pytest.raises(QuestionError) as refused:
        answer_create(question=question, author=CustomerFactory().user, body="Yes.")
    assert refused.value.code == "not_published" and not Answer.objects.exists()


def test_answers_are_labelled_staff_bought_or_neither(beans, staff):
    question = QuestionFactory(subject=beans)
    by_staff = answer_create(question=question, author=staff, body="Yes, we use it.")
    by_buyer = answer_create(question=question, author=_buyer(beans).user, body="Yes.")
    other_subject_buyer = CustomerFactory()
    purchase(other_subject_buyer, subject_slug="something-else")
    by_other = answer_create(question=question, author=other_subject_buyer.user, body="No idea.")
    assert (by_staff.by_staff, by_staff.bought) == (True, False)
    assert (by_buyer.by_staff, by_buyer.bought) == (False, True)
    assert (by_other.by_staff, by_other.bought) == (False, False)


def test_a_published_answer_tells_the_asker_and_queues_email_and_points(
    beans, django_capture_on_commit_callbacks
):
    question = QuestionFactory(subject=beans)
    anna = CustomerFactory(first_name="Anna", last_name="Kim")
    with django_capture_on_commit_callbacks() as callbacks:
        answer = answer_create(question=question, author=anna.user, body="Yes, lovely.")
    assert answer.status == Answer.Status.PUBLISHED
    assert [message.to for message in mail.outbox] == [[question.author.user.email]]
    assert len(callbacks) == 2  # the answer's points; the asker's notices built afresh
    question.refresh_from_db()
    assert question.answered_at == answer.published_at
    notice = question.author.notices.get()
    assert notice.text == "Anna Kim answered your question about House blend."
    assert notice.url.endswith(f"#answer-{answer.public_id}")


def test_a_flagged_answer_waits_and_a_rejection_leaves_the_question_unanswered(beans, staff):
    _ban("rubbish")
    question = QuestionFactory(subject=beans)
    anna = CustomerFactory()
    answer = answer_create(question=question, author=anna.user, body="Rubbish beans.")
    assert answer.status == Answer.Status.PENDING
    assert not question.author.notices.exists()
    assert answer_reject(answer=answer, by=staff, reason="Tell us why, without insults.")
    question.refresh_from_db()
    assert question.answered_at is None
    assert anna.notices.get().kind == "answer_rejected"


# Votes


def test_one_helpful_vote_per_customer_and_never_on_ones_own_answer(beans):
    question, anna, ben = QuestionFactory(subject=beans), CustomerFactory(), CustomerFactory()
    answer = answer_create(question=question, author=anna.user, body="Yes.")
    assert answer_vote_add(answer=answer, customer=ben) == 1
    with pytest.raises(QuestionError) as second:
        answer_vote_add(answer=answer, customer=ben)
    assert second.value.code == "already_voted"
    with pytest.raises(QuestionError) as own:
        answer_vote_add(answer=answer, customer=anna)
    assert own.value.code == "own_answer"
    assert AnswerVote.objects.count() == 1
    answer.refresh_from_db()
    assert answer.helpful_count == 1


# Points


def test_answer_points_once_per_question_with_the_incentivised_label(beans):
    question, anna = QuestionFactory(subject=beans), CustomerFactory()
    answer = answer_create(question=question, author=anna.user, body="Yes.")
    assert answer_bonus_grant(answer_id=answer.pk)
    assert answer_bonus_grant(answer_id=answer.pk)  # a repeat finds the same transaction
    bonus = Transaction.objects.get(kind=Transaction.Kind.ANSWER_BONUS)
    assert bonus.entries.get(account__customer=anna).amount == EarnRule.objects.get().answer_bonus
    answer.refresh_from_db()
    assert answer.incentivised


def test_answer_points_stop_at_the_daily_cap(beans):
    EarnRule.objects.update_or_create(pk=1, defaults={"answer_bonus_daily_limit": 2})
    anna = CustomerFactory()
    answers = [
        answer_create(question=QuestionFactory(subject=beans), author=anna.user, body="Yes.")
        for _ in range(3)
    ]
    granted = [answer_bonus_grant(answer_id=answer.pk) for answer in answers]
    assert granted == [True, True, False]
    assert Transaction.objects.filter(kind=Transaction.Kind.ANSWER_BONUS).count() == 2
    assert not Answer.objects.get(pk=answers[2].pk).incentivised


def test_staff_and_unpublished_answers_earn_nothing(beans, staff):
    _ban("rubbish")
    question = QuestionFactory(subject=beans)
    by_staff = answer_create(question=question, author=staff, body="Yes.")
    pending = answer_create(question=question, author=CustomerFactory().user, body="Rubbish.")
    assert not answer_bonus_grant(answer_id=by_staff.pk)
    assert not answer_bonus_grant(answer_id=pending.pk)
    assert not Transaction.objects.filter(kind=Transaction.Kind.ANSWER_BONUS).exists()


# Emails


def test_knowers_with_consent_and_the_askers_contact_person_are_asked_once(beans, staff):
    contact = ContactPersonFactory(user=staff)
    asker = CustomerFactory(first_name="Ben", last_name="Meyer", contact_person=contact)
    buyers = [_buyer(beans) for _ in range(4)]
    reviewer = CustomerFactory(community_emails=True)
    ReviewFactory(subject=beans, author=reviewer)
    without_consent = CustomerFactory()
    purchase(without_consent, subject_slug=beans.slug)
    question = question_ask(author=asker, subject=beans, body="Espresso?")

    assert len(mail.outbox) == 4  # three customers and Sam, asked with the publication
    assert answer_requests_send(question_id=question.pk) == 0
    asked = {message.to[0] for message in mail.outbox}
    assert staff.email in asked and without_consent.user.email not in asked
    assert asker.user.email not in asked
    customers_asked = asked - {staff.email}
    assert len(customers_asked) == 3
    assert customers_asked <= {c.user.email for c in [*buyers, reviewer]}
    to_buyer = next(m for m in mail.outbox if m.to[0] == buyers[-1].user.email)
    assert to_buyer.subject == "Ben M. asked about House blend: can you help?"
    assert "you bought it in" in to_buyer.body and "unsubscribe" in to_buyer.body.lower()
    assert f"/reviews/question/{question.public_id}/#answer" in to_buyer.body
    assert to_buyer.alternatives[0][1] == "text/html"


def test_a_customer_is_asked_at_most_once_a_week(beans):
    anna = _buyer(beans)
    question_ask(author=CustomerFactory(), subject=beans, body="Espresso?")
    second = question_ask(author=CustomerFactory(), subject=beans, body="Filter?")
    assert len(mail.outbox) == 1
    assert answer_requests_send(question_id=second.pk) == 0
    AnswerRequest.objects.update(created_at=timezone.now() - timedelta(days=8))
    assert answer_requests_send(question_id=second.pk) == 1
    assert [m.to[0] for m in mail.outbox] == [anna.user.email] * 2


def test_an_answered_or_unpublished_question_asks_nobody(beans):
    _buyer(beans)
    pending = QuestionFactory(subject=beans, status=Question.Status.PENDING)
    answered = QuestionFactory(subject=beans, answered_at=timezone.now())
    assert answer_requests_send(question_id=pending.pk) == 0
    assert answer_requests_send(question_id=answered.pk) == 0
    assert mail.outbox == []


def test_the_asker_is_emailed_once_per_answer_in_their_language(beans):
    asker = CustomerFactory(language="de")
    question = QuestionFactory(subject=beans, author=asker)
    answer = answer_create(question=question, author=CustomerFactory().user, body="Ja.")
    assert not answer_asker_tell(answer_id=answer.pk)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [asker.user.email]
    assert mail.outbox[0].subject == "Ihre Frage zu House blend hat eine Antwort"
