"""The partner API's questions feed: published questions with their published answers."""

import pytest
from django.contrib.auth import get_user_model

from reviews.models import Question, ReviewPolicy
from reviews.questions import answer_create
from tests.factories import CustomerFactory, purchase
from tests.reviews.factories import QuestionFactory, SubjectFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/questions/"


def test_feed_lists_published_questions_with_labelled_answers(api):
    beans = SubjectFactory(slug="house-blend")
    asker = CustomerFactory(first_name="Ben", last_name="Meyer")
    question = QuestionFactory(subject=beans, author=asker, body="Espresso?")
    QuestionFactory(subject=beans, status=Question.Status.PENDING)
    buyer = CustomerFactory(first_name="Anna", last_name="Kim")
    purchase(buyer, subject_slug="house-blend")
    by_buyer = answer_create(question=question, author=buyer.user, body="Yes.")
    staff = get_user_model().objects.create_user(
        email="sam@example.com", first_name="Sam", is_staff=True
    )
    by_staff = answer_create(question=question, author=staff, body="We use it daily.")
    ReviewPolicy.objects.filter(pk=ReviewPolicy.current().pk).update(banned_words="awful")
    answer_create(question=question, author=CustomerFactory().user, body="Awful.")

    body = api.get(URL).json()
    assert body["count"] == 1
    result = body["results"][0]
    assert (result["id"], result["subject"], result["body"], result["author"]) == (
        str(question.public_id), "house-blend", "Espresso?", "Ben M.",
    )  # fmt: skip
    assert [(a["id"], a["label"], a["author"]) for a in result["answers"]] == [
        (str(by_staff.public_id), "staff", "Sam"),
        (str(by_buyer.public_id), "bought", "Anna K."),
    ]
    assert set(result["answers"][0]) == {
        "id", "body", "author", "label", "incentivised", "helpful_count", "created_at",
    }  # fmt: skip


def test_feed_filters_by_subject_and_refuses_a_bad_slug(api):
    QuestionFactory(subject=SubjectFactory(slug="house-blend"))
    QuestionFactory()
    assert api.get(URL).json()["count"] == 2
    assert api.get(URL, {"subject": "house-blend"}).json()["count"] == 1
    assert api.get(URL, {"subject": "no-such-thing"}).json()["count"] == 0
    response = api.get(URL, {"subject": "not a slug!"})
    assert response.status_code == 400 and "subject" in response.json()
