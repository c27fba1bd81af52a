"""Questions in a real browser: Anna asks on a subject's page, Ben (who bought it) answers
from the email a real worker sent him, and Anna sees the answer."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import expect

from reviews.models import Answer, Question
from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import log_in
from tests.factories import CustomerFactory, purchase
from tests.reviews.factories import ReviewFactory, SubjectFactory
from tests.support import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def _text(message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode()
    raise AssertionError("no text part")


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"]
    page.screenshot(path=SCREENSHOTS / f"{name}-{width}.png", full_page=True)


def test_a_question_asked_answered_from_the_email_and_seen_by_the_asker(
    page, browser, live_server, customer, celery_worker, smtp_sink
):
    beans = SubjectFactory(name="House Blend", slug="house-blend")
    ReviewFactory(subject=beans, title="Chocolatey")
    ben = CustomerFactory(
        first_name="Ben", last_name="Meyer", email="ben@example.com", community_emails=True
    )
    EmailAddress.objects.create(user=ben.user, email=ben.user.email, verified=True, primary=True)
    purchase(ben, subject_slug="house-blend")

    log_in(page, customer.user.email)
    page.goto("/reviews/house-blend/")
    expect(page.get_by_text("No questions yet.")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Your question").fill("Is it good as espresso?")
    page.get_by_role("button", name="Ask", exact=True).click()
    page.wait_for_url("**/reviews/question/**")
    expect(page.get_by_text("Your question is published.")).to_be_visible()
    assert_accessible(page)
    question = Question.objects.get()

    wait_for(lambda: smtp_sink.count_to("ben@example.com"), timeout=60)
    mail = next(m for m in smtp_sink.messages if m["To"] == "ben@example.com")
    assert mail["Subject"] == "Anna K. asked about House Blend: can you help?"
    # The worker builds links from its own SITE_URL; the path is what leads to the page.
    link = urlsplit(re.search(r"http\S+#answer", _text(mail)).group(0))

    ben_context = browser.new_context(viewport=page.viewport_size, base_url=live_server.url)
    ben_page = ben_context.new_page()
    ben_page.set_default_timeout(10_000)
    log_in(ben_page, "ben@example.com")
    ben_page.goto(f"{link.path}#{link.fragment}")
    expect(ben_page.get_by_role("heading", name="Is it good as espresso?")).to_be_visible()
    assert_accessible(ben_page)
    _shot(ben_page, "question-to-answer")
    ben_page.get_by_label("Your answer").fill("Yes: chocolatey, a little bitter.")
    ben_page.get_by_role("button", name="Send answer").click()
    expect(ben_page.get_by_text("Thank you for your answer!")).to_be_visible()
    ben_context.close()
    assert Answer.objects.get().question == question

    page.reload()
    answer = page.locator(".answer")
    expect(answer).to_contain_text("Yes: chocolatey, a little bitter.")
    expect(answer).to_contain_text("Bought this")
    expect(answer).to_contain_text("Ben M.")
    assert_accessible(page)
    _shot(page, "question-answered")
    page.goto("/reviews/house-blend/")
    expect(page.locator("#questions ~ .question")).to_contain_text("Yes: chocolatey")
    _shot(page, "subject-with-questions")
    page.goto("/me/notices/")
    expect(
        page.get_by_role("link", name="Ben Meyer answered your question about House Blend.")
    ).to_be_visible()
    wait_for(lambda: smtp_sink.count_to(customer.user.email), timeout=60)
