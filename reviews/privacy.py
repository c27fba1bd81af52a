"""The reviews app's part of data rights: its export section and its erasure (customers.signals)."""

from __future__ import annotations

from django.db.models import F
from django.dispatch import receiver

from customers.models import Customer
from customers.privacy import DataSection
from customers.signals import customer_erased, personal_data_collect
from reviews.models import (
    Answer,
    AnswerRequest,
    AnswerVote,
    FeedbackAlert,
    HelpfulVote,
    Question,
    Review,
    ReviewPhoto,
    ReviewReply,
    Survey,
)
from reviews.questions import questions_answered_at_refresh


@receiver(personal_data_collect, dispatch_uid="reviews.reviews_section")
def reviews_section(sender, *, customer: Customer, **kwargs) -> DataSection:
    reviews = Review.objects.filter(author=customer).select_related("subject")
    photos = ReviewPhoto.objects.filter(review__author=customer)
    return DataSection(
        name="reviews",
        models=(
            Review,
            ReviewPhoto,
            ReviewReply,
            HelpfulVote,
            Survey,
            FeedbackAlert,
            Question,
            Answer,
            AnswerVote,
            AnswerRequest,
        ),
        records={
            "reviews": [
                {
                    "subject": review.subject.slug,
                    "rating": review.rating,
                    "title": review.title,
                    "body": review.body,
                    "status": review.status,
                    "rejection_reason": review.rejection_reason,
                    "reply": review.public_reply.body if review.public_reply else None,
                    "photos": [p.image for p in photos if p.review_id == review.pk],
                    "created_at": review.created_at,
                }
                for review in reviews.select_related("reply")
            ],
            "helpful_votes": list(
                HelpfulVote.objects.filter(customer=customer).values(
                    "review__public_id", "created_at"
                )
            ),
            "surveys": list(
                Survey.objects.filter(customer=customer).values(
                    "conversion__order_id", "status", "score", "comment", "sent_at", "answered_at"
                )
            ),
            "questions": list(
                Question.objects.filter(author=customer).values(
                    "public_id",
                    "subject__slug",
                    "body",
                    "status",
                    "rejection_reason",
                    "created_at",
                )
            ),
            "answers": list(
                Answer.objects.filter(author=customer.user).values(
                    "question__public_id",
                    "body",
                    "status",
                    "rejection_reason",
                    "bought",
                    "incentivised",
                    "created_at",
                )
            ),
            "answer_votes": list(
                AnswerVote.objects.filter(customer=customer).values(
                    "answer__public_id", "created_at"
                )
            ),
            "asked_to_answer": list(
                AnswerRequest.objects.filter(recipient=customer.user).values(
                    "question__public_id", "sent_at"
                )
            ),
            "feedback_alerts": list(
                FeedbackAlert.objects.filter(customer=customer).values(
                    "kind", "status", "note", "created_at", "answered_at"
                )
            ),
        },
        files=[p.image for p in photos],
    )


@receiver(customer_erased, dispatch_uid="reviews.erase")
def reviews_erase(sender, *, customer: Customer, **kwargs) -> None:
    """Their reviews, photos, questions and answers go (the text is theirs); NPS scores stay
    without the comment."""
    for photo in ReviewPhoto.objects.filter(review__author=customer):
        photo.image.delete(save=False)
        photo.thumbnail.delete(save=False)
    Review.objects.filter(author=customer).delete()
    voted = HelpfulVote.objects.filter(customer=customer)
    Review.objects.filter(pk__in=voted.values("review_id")).update(
        helpful_count=F("helpful_count") - 1
    )
    voted.delete()
    Question.objects.filter(author=customer).delete()
    answered = list(
        Answer.objects.filter(author=customer.user).values_list("question_id", flat=True)
    )
    Answer.objects.filter(author=customer.user).delete()
    questions_answered_at_refresh(question_ids=answered)
    voted_answers = AnswerVote.objects.filter(customer=customer)
    Answer.objects.filter(pk__in=voted_answers.values("answer_id")).update(
        helpful_count=F("helpful_count") - 1
    )
    voted_answers.delete()
    AnswerRequest.objects.filter(recipient=customer.user).delete()
    Survey.objects.filter(customer=customer).update(comment="")
    FeedbackAlert.objects.filter(customer=customer).update(note="")
