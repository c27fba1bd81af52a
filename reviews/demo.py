"""Demo subjects, reviews, a staff reply, a question with its answer and the review policy for
`seed_demo`."""

from __future__ import annotations

from customers.models import Customer, User
from reviews.models import Answer, Question, Review, ReviewPolicy, Subject
from reviews.questions import answer_create, question_ask
from reviews.services import review_create, review_publish, review_reply_set

SUBJECTS = [
    ("house-blend", "House Blend beans", Subject.Kind.PRODUCT, "Our everyday espresso blend."),
    ("barista-course", "Home barista course", Subject.Kind.SERVICE, "Two hours at the roastery."),
    ("canal-street", "Canal Street café", Subject.Kind.LOCATION, "Our first café."),
]

REVIEWS = [
    ("anna@example.com", "house-blend", 5, "My morning ritual", "Chocolatey and smooth."),
    ("ben@example.com", "house-blend", 4, "Good value", "Solid beans; a touch bitter as espresso."),
    ("carla@example.com", "house-blend", 2, "Arrived stale", "The bag was weeks past roasting."),
    ("anna@example.com", "barista-course", 5, "Learned a lot", "Latte art on day one!"),
]


def seed() -> str:
    ReviewPolicy.current()
    subjects = {}
    for slug, name, kind, description in SUBJECTS:
        subjects[slug], _created = Subject.objects.get_or_create(
            slug=slug, defaults={"name": name, "kind": kind, "description": description}
        )
    staff = User.objects.filter(email="staff@example.com").first()
    for email, slug, rating, title, body in REVIEWS:
        author = Customer.objects.get(user__email=email)
        if Review.objects.filter(author=author, subject=subjects[slug]).exists():
            continue
        review = review_create(
            author=author, subject=subjects[slug], rating=rating, title=title, body=body
        )
        review_publish(review=review, by=staff)
        if rating <= 2 and staff is not None:
            review_reply_set(
                review=review,
                author=staff,
                body="Sorry, Carla. That should never happen: a fresh bag is on its way.",
            )
    ben = Customer.objects.get(user__email="ben@example.com")
    if not Question.objects.filter(author=ben).exists():
        question = question_ask(
            author=ben, subject=subjects["house-blend"], body="Does it work in a moka pot?"
        )
        answer_create(
            question=question,
            author=User.objects.get(email="anna@example.com"),
            body="Yes: grind a little coarser than for espresso.",
        )
    return (
        f"{len(subjects)} subjects, {Review.objects.count()} reviews, "
        f"{Question.objects.count()} questions, {Answer.objects.count()} answers"
    )
