"""Questions and answers about a subject: asked by anyone signed in, answered by staff and by
customers who bought or reviewed it, moderated like reviews.

A question or an answer is published at once unless it holds a banned word; then it waits
for a moderator, who publishes it or rejects it with a reason its author reads. A published
question asks a few customers who know the subject, by email, to answer (only with their
consent to community emails, at most one such email a week each) and the asker's contact
person; a published answer tells the asker, and earns its customer author points.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Min, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.db import enqueue_after_commit
from core.emails import email_send
from customers.languages import language_for_address
from customers.models import ConsentRecord, Conversion, Customer, User
from customers.privacy import customer_email_send
from loyalty.earning import answer_bonus_award
from reviews.models import (
    Answer,
    AnswerRequest,
    AnswerVote,
    Question,
    Review,
    ReviewPolicy,
    Subject,
)
from reviews.moderation import moderated_publish, moderated_reject
from reviews.services import is_verified_purchase
from reviews.signals import (
    answer_published,
    answer_rejected,
    question_published,
    question_rejected,
)

# How many customers one question asks to answer, and how often one customer is asked.
CUSTOMERS_ASKED_PER_QUESTION = 3
ASKED_AT_MOST_EVERY = timedelta(days=7)


class QuestionError(Exception):
    """A request about a question or answer that cannot be honoured; the message is for the
    person asking."""

    def __init__(self, message: str, *, code: str = "invalid"):
        super().__init__(message)
        self.code = code


def _text(body: str, *, limit: int, empty: str) -> str:
    body = body.strip()
    if not body:
        raise ValidationError({"body": empty})
    if len(body) > limit:
        raise ValidationError(
            {"body": _("Keep it to %(limit)d characters, please.") % {"limit": limit}}
        )
    return body


def _flagged_words(text: str) -> str:
    return ", ".join(ReviewPolicy.current().banned_words_in(text))[:255]


def customer_of(user: User) -> Customer | None:
    """The user's customer profile, if they have one (staff may have none)."""
    return Customer.objects.filter(user=user).first()


def question_url(question: Question) -> str:
    return reverse("reviews:question", args=[question.public_id])


# Questions


def question_ask(*, author: Customer, subject: Subject, body: str) -> Question:
    """Ask a question about a subject; published at once unless it holds a banned word.

    Raises `ValidationError` (on `body`) for an empty or long text and `QuestionError` for a
    subject closed to new questions.
    """
    body = _text(body, limit=1000, empty=_("Write your question."))
    if not subject.is_active:
        raise QuestionError(_("This subject no longer takes questions."), code="subject_closed")
    with transaction.atomic():
        question = Question.objects.create(
            subject=subject, author=author, body=body, flagged_words=_flagged_words(body)
        )
        if not question.flagged_words:
            question_publish(question=question, by=None)
    return question


def question_publish(*, question: Question, by: User | None) -> bool:
    """Make a question public (compare-and-swap) and ask people to answer it (their emails
    stored in the outbox with the publication, so a broker outage loses none)."""
    with transaction.atomic():
        if not moderated_publish(question, by=by, now=timezone.now()):
            return False
        question_published.send(sender=Question, question=question)
        answer_requests_send(question_id=question.pk)
    return True


def question_reject(*, question: Question, by: User, reason: str) -> bool:
    """Refuse a question with a reason its author reads; returns False if it already was."""
    with transaction.atomic():
        changed = moderated_reject(question, by=by, reason=reason)
        if changed:
            question_rejected.send(sender=Question, question=question)
    return changed


# Answers


def answer_create(*, question: Question, author: User, body: str) -> Answer:
    """One person's answer to a published question, never to their own; labelled "staff" or
    "bought this" from who they are now, and published at once unless it holds a banned word.
    """
    body = _text(body, limit=3000, empty=_("Write your answer."))
    if question.status != Question.Status.PUBLISHED:
        raise QuestionError(_("This question is not published."), code="not_published")
    if question.author.user_id == author.pk:
        raise QuestionError(_("You can't answer your own question."), code="own_question")
    customer = customer_of(author)
    bought = customer is not None and is_verified_purchase(
        customer=customer, subject=question.subject
    )
    try:
        with transaction.atomic():
            answer = Answer.objects.create(
                question=question,
                author=author,
                body=body,
                by_staff=author.is_staff,
                bought=bought and not author.is_staff,
                flagged_words=_flagged_words(body),
            )
            if not answer.flagged_words:
                answer_publish(answer=answer, by=None)
    except IntegrityError:
        if Answer.objects.filter(question=question, author=author).exists():
            raise QuestionError(
                _("You have already answered this question."), code="already_answered"
            ) from None
        raise
    return answer


def answer_publish(*, answer: Answer, by: User | None) -> bool:
    """Make an answer public (compare-and-swap); the asker is told, and a customer's answer
    earns its points, after commit."""
    now = timezone.now()
    with transaction.atomic():
        if not moderated_publish(answer, by=by, now=now):
            return False
        Question.objects.filter(pk=answer.question_id, answered_at=None).update(answered_at=now)
        answer_published.send(sender=Answer, answer=answer)
        answer_asker_tell(answer_id=answer.pk)
        if not answer.by_staff:
            enqueue_after_commit("reviews.tasks.ledger_answer_bonus", answer.pk)
    return True


def answer_reject(*, answer: Answer, by: User, reason: str) -> bool:
    """Refuse an answer with a reason its author reads; returns False if it already was."""
    with transaction.atomic():
        changed = moderated_reject(answer, by=by, reason=reason)
        if changed:
            questions_answered_at_refresh(question_ids=[answer.question_id])
            answer_rejected.send(sender=Answer, answer=answer)
    return changed


def questions_answered_at_refresh(*, question_ids: list[int]) -> None:
    """Set each question's `answered_at` from its published answers again, after some went."""
    for question_id in question_ids:
        first = Answer.objects.filter(
            question_id=question_id, status=Answer.Status.PUBLISHED
        ).aggregate(first=Min("published_at"))["first"]
        Question.objects.filter(pk=question_id).update(answered_at=first)


def answer_vote_add(*, answer: Answer, customer: Customer) -> int:
    """One 'helpful' per customer and published answer, never on one's own; returns the count."""
    if answer.author_id == customer.user_id:
        raise QuestionError(_("You can't vote on your own answer."), code="own_answer")
    if answer.status != Answer.Status.PUBLISHED:
        raise QuestionError(_("This answer is not published."), code="not_published")
    try:
        with transaction.atomic():
            AnswerVote.objects.create(answer=answer, customer=customer)
            Answer.objects.filter(pk=answer.pk).update(helpful_count=F("helpful_count") + 1)
    except IntegrityError:
        raise QuestionError(
            _("You have already found this answer helpful."), code="already_voted"
        ) from None
    return Answer.objects.values_list("helpful_count", flat=True).get(pk=answer.pk)


def answer_bonus_grant(*, answer_id: int) -> bool:
    """Ask the ledger for a customer's answering points: once per question, within the daily
    cap; an answer that received points says so where it is shown."""
    answer = Answer.objects.select_related("author", "question").get(pk=answer_id)
    if answer.status != Answer.Status.PUBLISHED or answer.by_staff:
        return False
    customer = customer_of(answer.author)
    if customer is None or customer.erased_at:
        return False
    posted = answer_bonus_award(customer=customer, question_ref=str(answer.question.public_id))
    if posted is None:
        return False
    Answer.objects.filter(pk=answer.pk, incentivised=False).update(incentivised=True)
    return True


# Emails


def _knowers(question: Question) -> list[Customer]:
    """Customers who bought or reviewed the subject and agreed to community emails, not asked
    about this question, nor about any other within the week; the newest customers first, as
    many as the question still needs."""
    wanted = (
        CUSTOMERS_ASKED_PER_QUESTION - question.requests.filter(recipient__is_staff=False).count()
    )
    if wanted <= 0:
        return []
    subject = question.subject
    since = timezone.now() - ASKED_AT_MOST_EVERY
    bought = Conversion.objects.filter(subject_slug=subject.slug).exclude(
        status=Conversion.Status.REFUNDED
    )
    reviewed = Review.objects.filter(subject=subject, status=Review.Status.PUBLISHED)
    asked = AnswerRequest.objects.filter(Q(question=question) | Q(created_at__gte=since))
    return list(
        Customer.objects.filter(
            Q(pk__in=bought.values("customer_id")) | Q(pk__in=reviewed.values("author_id")),
            community_emails=True,
            erased_at=None,
            user__is_active=True,
        )
        .exclude(pk=question.author_id)
        .exclude(user__in=asked.values("recipient_id"))
        .select_related("user")
        .order_by("-pk")[:wanted]
    )


def _claim_customer(question: Question, customer: Customer) -> AnswerRequest | None:
    """Record that this customer is asked, unless another question asked them this week."""
    with transaction.atomic():
        # Two questions' tasks may pick the same customer at once: the row lock orders them.
        Customer.objects.select_for_update().filter(pk=customer.pk).first()
        since = timezone.now() - ASKED_AT_MOST_EVERY
        if AnswerRequest.objects.filter(recipient=customer.user, created_at__gte=since).exists():
            return None
        return AnswerRequest.objects.create(question=question, recipient=customer.user)


def _claim_staff(question: Question) -> AnswerRequest | None:
    """The asker's contact person, a staff member who knows the business, is asked too."""
    contact = question.author.contact_person
    staff = contact.user if contact is not None and contact.is_active else None
    if staff is None or not staff.is_active or staff.pk == question.author.user_id:
        return None
    request, _created = AnswerRequest.objects.get_or_create(question=question, recipient=staff)
    return request


def _request_context(request: AnswerRequest, customer: Customer | None) -> dict:
    question = request.question
    context = {
        "question": question,
        "asker": question.author_display,
        "subject": question.subject,
        "answer_url": settings.SITE_URL + question_url(question) + "#answer",
    }
    if customer is not None:
        context["bought_at"] = Conversion.objects.filter(
            customer=customer, subject_slug=question.subject.slug
        ).aggregate(last=Max("occurred_at"))["last"]
    return context


def answer_requests_send(*, question_id: int) -> int:
    """Ask a published question's knowers to answer, by email; returns how many went now.

    Idempotent: each person is asked once per question (a unique row), and a request is
    claimed by compare-and-swap before its email goes, so a second run sends nothing twice.
    """
    question = Question.objects.select_related(
        "subject", "author__user", "author__contact_person__user"
    ).get(pk=question_id)
    if question.status != Question.Status.PUBLISHED or question.answered_at is not None:
        return 0
    for customer in _knowers(question):
        try:
            _claim_customer(question, customer)
        except IntegrityError:
            continue
    _claim_staff(question)
    sent = 0
    for request in question.requests.filter(sent_at=None).select_related("recipient"):
        now = timezone.now()
        if not AnswerRequest.objects.filter(pk=request.pk, sent_at=None).update(sent_at=now):
            continue
        staff = request.recipient.is_staff
        try:
            customer = None if staff else customer_of(request.recipient)
            context = _request_context(request, customer)
            if staff or customer is None:
                address = request.recipient.email
                email_send(
                    to=address,
                    template="reviews/answer_request",
                    context=context,
                    language=language_for_address(address),
                )
                went = True
            else:
                # Consent is read again: it may have been withdrawn since the claim.
                went = customer_email_send(
                    customer=customer,
                    template="reviews/answer_request",
                    context=context,
                    topic=ConsentRecord.Topic.COMMUNITY,
                )
        except Exception:
            AnswerRequest.objects.filter(pk=request.pk, sent_at=now).update(sent_at=None)
            raise
        if went:
            sent += 1
        else:
            request.delete()
    return sent


def answer_asker_tell(*, answer_id: int) -> bool:
    """Email the asker that their question has an answer, once per answer."""
    now = timezone.now()
    claimed = Answer.objects.filter(
        pk=answer_id, status=Answer.Status.PUBLISHED, asker_emailed_at=None
    ).update(asker_emailed_at=now)
    if not claimed:
        return False
    answer = Answer.objects.select_related(
        "author", "question__subject", "question__author__user"
    ).get(pk=answer_id)
    question = answer.question
    try:
        return customer_email_send(
            customer=question.author,
            template="reviews/question_answered",
            context={
                "answer": answer,
                "question": question,
                "subject": question.subject,
                "question_url": settings.SITE_URL + question_url(question),
            },
            topic=ConsentRecord.Topic.NOTIFICATIONS,
        )
    except Exception:
        Answer.objects.filter(pk=answer_id, asker_emailed_at=now).update(asker_emailed_at=None)
        raise
