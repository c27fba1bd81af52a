"""Reads of reviews and surveys shared by the pages, the admin and the partner API."""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Avg, Count, Prefetch, Q, QuerySet
from django.db.models.functions import TruncWeek
from django.utils import timezone

from customers.models import Customer
from reviews.models import (
    Answer,
    AnswerVote,
    HelpfulVote,
    Question,
    Review,
    ReviewPhoto,
    Subject,
    Survey,
)

SORTS = {
    "newest": ["-created_at", "-id"],
    "highest": ["-rating", "-created_at", "-id"],
    "lowest": ["rating", "-created_at", "-id"],
    "helpful": ["-helpful_count", "-created_at", "-id"],
}


def _with_relations(reviews: QuerySet[Review]) -> QuerySet[Review]:
    # Everything a review card or the API shows, in a fixed number of queries.
    return reviews.select_related(
        "author__user", "subject", "reply__author__contact_person"
    ).prefetch_related(
        Prefetch("photos", queryset=ReviewPhoto.objects.order_by("created_at", "id"))
    )


def published_reviews(
    *, subject_slug: str | None = None, min_rating: int | None = None, sort: str = "newest"
) -> QuerySet[Review]:
    """Published reviews only (never pending or rejected), newest first unless `sort` says."""
    reviews = Review.objects.filter(status=Review.Status.PUBLISHED)
    if subject_slug is not None:
        reviews = reviews.filter(subject__slug=subject_slug)
    if min_rating is not None:
        reviews = reviews.filter(rating__gte=min_rating)
    return _with_relations(reviews).order_by(*SORTS.get(sort, SORTS["newest"]))


def _summary(reviews: QuerySet[Review]) -> tuple[int, float | None, dict[str, int]]:
    counts = dict(reviews.values_list("rating").annotate(n=Count("id")).order_by())
    distribution = {str(stars): counts.get(stars, 0) for stars in range(1, 6)}
    total = sum(distribution.values())
    if not total:
        return 0, None, distribution
    average = Decimal(sum(stars * n for stars, n in counts.items())) / total
    return total, float(average.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)), distribution


def review_summary(*, subject_slug: str) -> dict:
    """Count, average (2 decimals; None if no reviews) and 1-5 distribution of published reviews.

    Raises `Subject.DoesNotExist` for an unknown slug.
    """
    subject = Subject.objects.get(slug=subject_slug)
    count, average, distribution = _summary(
        Review.objects.filter(subject=subject, status=Review.Status.PUBLISHED)
    )
    return {
        "subject": subject.slug,
        "count": count,
        "average": average,
        "distribution": distribution,
    }


def subjects_with_ratings() -> QuerySet[Subject]:
    """Active subjects with `review_count` and `average_rating` of their published reviews."""
    published = Q(reviews__status=Review.Status.PUBLISHED)
    return Subject.objects.filter(is_active=True).annotate(
        review_count=Count("reviews", filter=published),
        average_rating=Avg("reviews__rating", filter=published),
    )


def reviews_by(*, customer: Customer) -> QuerySet[Review]:
    """The customer's own reviews in every state (they see why one was rejected)."""
    return _with_relations(Review.objects.filter(author=customer))


def helpful_review_ids(*, customer: Customer, reviews) -> set[int]:
    """Which of these reviews the customer has already found helpful (one query)."""
    return set(
        HelpfulVote.objects.filter(
            customer=customer, review_id__in=[review.pk for review in reviews]
        ).values_list("review_id", flat=True)
    )


def nps_by_week(*, weeks: int = 12) -> list[dict]:
    """Per week: answers, promoters, passives, detractors and NPS (% promoters - % detractors)."""
    since = timezone.now() - timedelta(weeks=weeks)
    rows = (
        Survey.objects.filter(status=Survey.Status.ANSWERED, answered_at__gte=since)
        .annotate(week=TruncWeek("answered_at"))
        .values("week")
        .annotate(
            answers=Count("id"),
            promoters=Count("id", filter=Q(score__gte=9)),
            detractors=Count("id", filter=Q(score__lte=6)),
        )
        .order_by("week")
    )
    return [
        {
            **row,
            "passives": row["answers"] - row["promoters"] - row["detractors"],
            "nps": round(100 * (row["promoters"] - row["detractors"]) / row["answers"]),
        }
        for row in rows
    ]


def rating_trends(*, weeks: int = 12) -> dict[str, list[dict]]:
    """Per subject name: weekly count and average rating of published reviews."""
    since = timezone.now() - timedelta(weeks=weeks)
    rows = (
        Review.objects.filter(status=Review.Status.PUBLISHED, created_at__gte=since)
        .annotate(week=TruncWeek("created_at"))
        .values("subject__name", "week")
        .annotate(count=Count("id"), average=Avg("rating"))
        .order_by("subject__name", "week")
    )
    trends: dict[str, list[dict]] = {}
    for row in rows:
        trends.setdefault(row["subject__name"], []).append(
            {"week": row["week"], "count": row["count"], "average": round(row["average"], 2)}
        )
    return trends


def _answers_shown() -> Prefetch:
    return Prefetch(
        "answers",
        queryset=Answer.objects.filter(status=Answer.Status.PUBLISHED)
        .select_related("author")
        .order_by("-by_staff", "-helpful_count", "created_at", "id"),
        to_attr="published_answers",
    )


def published_questions(*, subject_slug: str | None = None) -> QuerySet[Question]:
    """Published questions, newest first, each with `published_answers` (staff first, then the
    most helpful), in a fixed number of queries."""
    questions = Question.objects.filter(status=Question.Status.PUBLISHED)
    if subject_slug is not None:
        questions = questions.filter(subject__slug=subject_slug)
    return (
        questions.select_related("subject", "author__user")
        .prefetch_related(_answers_shown())
        .order_by("-created_at", "-id")
    )


def question_with_answers(*, public_id) -> Question:
    """One question (in any state: its author sees why it waits) with its published answers.

    Raises `Question.DoesNotExist` for an unknown id."""
    return (
        Question.objects.select_related("subject", "author__user")
        .prefetch_related(_answers_shown())
        .get(public_id=public_id)
    )


def helpful_answer_ids(*, customer: Customer, answers) -> set[int]:
    """Which of these answers the customer has already found helpful (one query)."""
    return set(
        AnswerVote.objects.filter(
            customer=customer, answer_id__in=[answer.pk for answer in answers]
        ).values_list("answer_id", flat=True)
    )
