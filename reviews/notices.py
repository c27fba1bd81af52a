"""The reviews app's notices (see customers.notices): a review published or rejected by a
moderator, the business's reply to it, an answer to one's question, and a question or answer
a moderator rejected."""

from __future__ import annotations

from django.dispatch import receiver
from django.urls import reverse
from django.utils.translation import gettext as _

from customers.models import Notice
from customers.notices import actor_name, notice_create, notice_kind
from reviews.models import Answer, Question, Review, ReviewReply
from reviews.questions import customer_of, question_url
from reviews.signals import (
    answer_published,
    answer_rejected,
    question_rejected,
    review_published,
    review_rejected,
    review_replied,
)


@notice_kind("review_published")
def _published_text(notice: Notice) -> str:
    return _("Your review of %(subject)s is published.") % {"subject": notice.params["subject"]}


@notice_kind("review_rejected")
def _rejected_text(notice: Notice) -> str:
    return _("Your review of %(subject)s was not published. See why and edit it.") % {
        "subject": notice.params["subject"]
    }


@notice_kind("review_replied")
def _replied_text(notice: Notice) -> str:
    return _("We replied to your review of %(subject)s.") % {"subject": notice.params["subject"]}


def _on_its_page(review: Review) -> str:
    return reverse("reviews:subject", args=[review.subject.slug]) + f"#review-{review.public_id}"


@receiver(review_published, dispatch_uid="reviews.notice_published")
def _published(sender, *, review: Review, **kwargs) -> None:
    # An auto-published review went live while its author watched: nothing to tell them.
    if review.moderated_by is None:
        return
    notice_create(
        customer=review.author,
        kind="review_published",
        params={"subject": review.subject.name},
        url=_on_its_page(review),
        source_key=f"published:{review.public_id}:{review.published_at.isoformat()}",
    )


@receiver(review_rejected, dispatch_uid="reviews.notice_rejected")
def _rejected(sender, *, review: Review, **kwargs) -> None:
    notice_create(
        customer=review.author,
        kind="review_rejected",
        params={"subject": review.subject.name},
        url=reverse("reviews:mine"),
        source_key=f"rejected:{review.public_id}:{review.moderated_at.isoformat()}",
    )


@receiver(review_replied, dispatch_uid="reviews.notice_replied")
def _replied(sender, *, review: Review, reply: ReviewReply, created: bool, **kwargs) -> None:
    """Once per review: rewording the reply later is not news for the author."""
    notice_create(
        customer=review.author,
        kind="review_replied",
        params={"subject": review.subject.name},
        url=_on_its_page(review),
        source_key=f"replied:{review.public_id}",
    )


@notice_kind("question_answered")
def _answered_text(notice: Notice) -> str:
    # A customer's name is read from them now (an erased one is "a former member"); a staff
    # member's was kept when they answered.
    name = notice.params.get("staff") or actor_name(notice)
    return _("%(name)s answered your question about %(subject)s.") % {
        "name": name,
        "subject": notice.params["subject"],
    }


@notice_kind("question_rejected")
def _question_rejected_text(notice: Notice) -> str:
    return _("Your question about %(subject)s was not published: %(reason)s") % {
        "subject": notice.params["subject"],
        "reason": notice.params["reason"],
    }


@notice_kind("answer_rejected")
def _answer_rejected_text(notice: Notice) -> str:
    return _("Your answer about %(subject)s was not published: %(reason)s") % {
        "subject": notice.params["subject"],
        "reason": notice.params["reason"],
    }


@receiver(answer_published, dispatch_uid="reviews.notice_question_answered")
def _question_answered(sender, *, answer: Answer, **kwargs) -> None:
    question = answer.question
    params = {"subject": question.subject.name}
    if answer.by_staff:
        params["staff"] = answer.author_display
    notice_create(
        customer=question.author,
        kind="question_answered",
        params=params,
        actor=None if answer.by_staff else customer_of(answer.author),
        url=question_url(question) + f"#answer-{answer.public_id}",
        source_key=f"answered:{answer.public_id}",
    )


@receiver(question_rejected, dispatch_uid="reviews.notice_question_rejected")
def _question_rejected(sender, *, question: Question, **kwargs) -> None:
    notice_create(
        customer=question.author,
        kind="question_rejected",
        params={"subject": question.subject.name, "reason": question.rejection_reason},
        url=question_url(question),
        source_key=f"question-rejected:{question.public_id}:{question.moderated_at.isoformat()}",
    )


@receiver(answer_rejected, dispatch_uid="reviews.notice_answer_rejected")
def _answer_rejected(sender, *, answer: Answer, **kwargs) -> None:
    customer = customer_of(answer.author)
    if customer is None:
        return
    notice_create(
        customer=customer,
        kind="answer_rejected",
        params={"subject": answer.question.subject.name, "reason": answer.rejection_reason},
        url=question_url(answer.question),
        source_key=f"answer-rejected:{answer.public_id}:{answer.moderated_at.isoformat()}",
    )
