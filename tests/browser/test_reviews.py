"""The reviews pages in a real browser: public subject page, writing a review, the survey."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from reviews.models import Review, Survey
from reviews.surveys import survey_token
from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import log_in
from tests.factories import purchase
from tests.reviews.factories import ReviewFactory, SubjectFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_subject_page_and_writing_a_review(page, customer):
    subject = SubjectFactory(name="House Blend", slug="house-blend")
    ReviewFactory(subject=subject, rating=5, title="Chocolatey", helpful_count=2)
    ReviewFactory(subject=subject, rating=2, title="Too dark")
    page.goto("/reviews/")
    assert_accessible(page)
    page.get_by_role("link", name="House Blend").click()
    expect(page.get_by_text("3.5 out of 5 from 2 reviews")).to_be_visible()
    assert_accessible(page)
    log_in(page, customer.user.email)
    page.goto("/reviews/house-blend/write/")
    assert_accessible(page)
    page.get_by_label("4 out of 5").check()
    page.get_by_label("Title").fill("Good beans")
    page.get_by_label("Your review").fill("Smooth, a little bitter.")
    page.get_by_role("button", name="Send review").click()
    page.wait_for_url("**/reviews/mine/")
    assert page.get_by_text("Waiting for moderation").first.is_visible()
    assert_accessible(page)
    assert Review.objects.filter(author=customer, status=Review.Status.PENDING).exists()


def test_survey_click_and_comment(page, customer):
    survey = Survey.objects.create(
        conversion=purchase(customer),
        customer=customer,
        send_after=timezone.now(),
        status=Survey.Status.SENT,
    )
    page.goto(f"/reviews/survey/{survey_token(survey)}/10/")
    expect(page.get_by_role("radio", name="10")).to_be_checked()
    assert_accessible(page)
    page.get_by_role("button", name="Send my answer").click()
    assert page.get_by_role("heading", name="Bring a friend").is_visible()
    assert_accessible(page)
    page.get_by_label("Anything you'd like to tell us?").fill("Keep it up!")
    page.get_by_role("button", name="Send comment").click()
    expect(page.get_by_text("Thank you for telling us.")).to_be_visible()
    survey.refresh_from_db()
    assert survey.score == 10 and survey.comment == "Keep it up!"


def test_rating_chosen_with_the_arrow_keys_is_the_one_stored(page, customer):
    SubjectFactory(name="House Blend", slug="house-blend")
    log_in(page, customer.user.email)
    page.goto("/reviews/house-blend/write/")
    stars = page.get_by_role("group", name="Rating")
    assert stars.get_by_role("radio").count() == 5
    page.get_by_label("1 out of 5").focus()
    page.keyboard.press("Space")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowLeft")
    assert page.get_by_label("3 out of 5").is_checked()
    filled = page.locator(".rating label").evaluate_all(
        "labels => labels.map(l => getComputedStyle(l, '::before').content)"
    )
    assert filled == ['"★" / ""'] * 3 + ['"☆" / ""'] * 2
    page.get_by_label("Title").fill("Good beans")
    page.get_by_label("Your review").fill("Smooth, a little bitter.")
    page.get_by_role("button", name="Send review").click()
    page.wait_for_url("**/reviews/mine/")
    assert Review.objects.get(author=customer).rating == 3
