"""The question and answer pages: asking on a subject's page, answering, votes, escaping."""

from __future__ import annotations

import html

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from reviews.models import Answer, Question, ReviewPolicy
from reviews.questions import answer_create
from tests.factories import CustomerFactory, purchase
from tests.reviews.factories import QuestionFactory, ReviewFactory, SubjectFactory

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def beans():
    return SubjectFactory(name="House blend", slug="house-blend")


@pytest.fixture
def customer_client(client):
    customer = CustomerFactory(first_name="Anna", last_name="Kim")
    client.force_login(customer.user)
    client.customer = customer
    return client


def _messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_questions_show_under_the_reviews_with_an_empty_state(client, beans):
    ReviewFactory(subject=beans, title="Chocolatey")
    page = client.get(reverse("reviews:subject", args=["house-blend"])).content.decode()
    assert page.index("Chocolatey") < page.index("Questions and answers")
    assert "No questions yet." in page
    assert "Sign in to ask a question" in page
    QuestionFactory(subject=beans, body="Good as espresso?")
    QuestionFactory(subject=beans, body="Still waiting", status=Question.Status.PENDING)
    page = client.get(reverse("reviews:subject", args=["house-blend"])).content.decode()
    assert "Good as espresso?" in page and "Still waiting" not in page
    assert "No answer yet." in page


def test_questions_are_paginated(client, beans):
    for n in range(7):
        QuestionFactory(subject=beans, body=f"Question number {n}")
    url = reverse("reviews:subject", args=["house-blend"])
    first = client.get(url).content.decode()
    assert "Question number 6" in first and "Question number 1" not in first
    assert "Page 1 of 2" in first
    second = client.get(url, {"questions_page": 2}).content.decode()
    assert "Question number 1" in second and "Question number 6" not in second


def test_a_customer_asks_on_the_subjects_page(customer_client, beans):
    page = customer_client.get(reverse("reviews:subject", args=["house-blend"])).content.decode()
    assert 'action="/reviews/house-blend/ask/"' in page
    response = customer_client.post(
        reverse("reviews:ask", args=["house-blend"]), {"body": "Decaf?"}
    )
    question = Question.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("reviews:question", args=[question.public_id])
    assert question.author == customer_client.customer
    assert question.status == Question.Status.PUBLISHED


def test_a_question_on_an_unknown_subject_is_404_and_asking_needs_a_login(
    customer_client, client, beans
):
    response = customer_client.post(reverse("reviews:ask", args=["no-such"]), {"body": "Hm?"})
    assert response.status_code == 404 and not Question.objects.exists()
    client.logout()
    response = client.post(reverse("reviews:ask", args=["house-blend"]), {"body": "Hm?"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not Question.objects.exists()


def test_an_empty_question_is_a_form_error(customer_client, beans):
    response = customer_client.post(reverse("reviews:ask", args=["house-blend"]), {"body": " "})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not Question.objects.exists()


def test_an_answer_to_ones_own_question_is_refused_on_the_page(customer_client, beans):
    question = QuestionFactory(subject=beans, author=customer_client.customer)
    page = customer_client.get(reverse("reviews:question", args=[question.public_id]))
    assert "This is your question" in page.content.decode()
    response = customer_client.post(
        reverse("reviews:answer", args=[question.public_id]), {"body": "Me again."}
    )
    assert response.status_code == 400
    assert "You can't answer your own question." in html.unescape(response.content.decode())
    assert not Answer.objects.exists()


def test_a_buyer_answers_and_the_answer_shows_with_its_label(customer_client, client, beans):
    purchase(customer_client.customer, subject_slug="house-blend")
    question = QuestionFactory(subject=beans)
    url = reverse("reviews:question", args=[question.public_id])
    response = customer_client.post(
        reverse("reviews:answer", args=[question.public_id]), {"body": "Yes, lovely."}
    )
    assert response.status_code == 302 and response["Location"] == url
    page = client.get(url).content.decode()
    assert "Yes, lovely." in page and "Bought this" in page and "Anna K." in page
    second = customer_client.post(
        reverse("reviews:answer", args=[question.public_id]), {"body": "Again."}
    )
    assert second.status_code == 400 and Answer.objects.count() == 1


def test_answering_needs_a_login_and_a_pending_question_is_hidden(client, beans):
    pending = QuestionFactory(subject=beans, status=Question.Status.PENDING)
    assert client.get(reverse("reviews:question", args=[pending.public_id])).status_code == 404
    question = QuestionFactory(subject=beans)
    page = client.get(reverse("reviews:question", args=[question.public_id])).content.decode()
    assert "Sign in to answer" in page
    response = client.post(reverse("reviews:answer", args=[question.public_id]), {"body": "x"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_author_sees_their_waiting_question_and_why_one_was_rejected(customer_client, beans):
    waiting = QuestionFactory(
        subject=beans, author=customer_client.customer, status=Question.Status.PENDING
    )
    rejected = QuestionFactory(
        subject=beans,
        author=customer_client.customer,
        status=Question.Status.REJECTED,
        rejection_reason="Please ask about the product.",
    )
    page = customer_client.get(reverse("reviews:question", args=[waiting.public_id]))
    assert "will appear once we have read it" in page.content.decode()
    page = customer_client.get(reverse("reviews:question", args=[rejected.public_id]))
    assert "Please ask about the product." in page.content.decode()


def test_a_second_helpful_vote_is_refused_with_a_message(customer_client, beans):
    question = QuestionFactory(subject=beans)
    answer = answer_create(question=question, author=CustomerFactory().user, body="Yes.")
    url = reverse("reviews:answer_helpful", args=[answer.public_id])
    assert _messages(customer_client.post(url, follow=True)) == ["Thank you for your vote."]
    again = customer_client.post(url, follow=True)
    assert _messages(again) == ["You have already found this answer helpful."]
    answer.refresh_from_db()
    assert answer.helpful_count == 1


def test_hostile_text_is_escaped_on_every_page(customer_client, client, beans):
    ReviewPolicy.current()
    question = QuestionFactory(subject=beans, body=HOSTILE)
    answer_create(question=question, author=customer_client.customer.user, body=HOSTILE)
    for url in [
        reverse("reviews:subject", args=["house-blend"]),
        reverse("reviews:question", args=[question.public_id]),
    ]:
        page = client.get(url).content.decode()
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert" in page
