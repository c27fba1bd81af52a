"""A customer switches the portal to German: every page they reach speaks German."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from customers.models import Customer
from customers.services import connection_befriend
from loyalty.ledger import points_award
from loyalty.models import Transaction
from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import log_in
from tests.config.test_translations import po_entries
from tests.factories import PASSWORD, ContactPersonFactory, CustomerFactory
from tests.loyalty.factories import RewardFactory
from tests.referrals.factories import active_program, introduction_said_yes
from tests.reviews.factories import ReviewFactory, SubjectFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PAGES = [
    "/me/dashboard/",
    "/me/friends/",
    "/me/invite/",
    "/me/introductions/",
    "/me/rewards/",
    "/me/rewards/catalog/",
    "/me/rewards/history/",
    "/me/rewards/vouchers/",
    "/me/rewards/gift/",
    "/reviews/",
    "/reviews/mine/",
    "/reviews/espresso/",
    "/reviews/espresso/write/",
    "/me/profile/",
    "/me/data/",
]


def english_phrases(language: str) -> list[str]:
    """English sentences of the catalogue that the language says otherwise: each piece of a
    msgid between placeholders and tags, of three words or more."""
    catalogue = Path(settings.BASE_DIR) / f"locale/{language}/LC_MESSAGES/django.po"
    phrases = set()
    for entry in po_entries(catalogue):
        if entry["msgid"] in entry["msgstr"].values():
            continue
        for english in (entry["msgid"], entry.get("msgid_plural", "")):
            for piece in re.split(r"%\(\w+\)[sd]|%[sd]|<[^>]+>", english):
                piece = piece.strip(" ,.:;!?()")
                if len(piece.split()) >= 3:
                    phrases.add(piece)
    return sorted(phrases)


@pytest.fixture
def busy_customer(customer):
    """A customer with something on every page: points, a friend, a review, a reward, a
    contact person and a friend introduced to them."""
    active_program()
    points_award(customer=customer, points=20000, kind=Transaction.Kind.EARN, memo="Kaffee")
    connection_befriend(customer=customer, other=CustomerFactory(first_name="Ben"))
    RewardFactory(name="Gratis Espresso", points_cost=150)
    espresso = SubjectFactory(name="Espresso", slug="espresso")
    ReviewFactory(subject=SubjectFactory(name="Latte", slug="latte"), author=customer)
    ReviewFactory(subject=espresso, title="Sehr gut", body="Sehr guter Kaffee.")
    customer.contact_person = ContactPersonFactory(name="Maria Rossi", role="Beraterin")
    customer.save(update_fields=["contact_person"])
    introduction_said_yes(customer)
    return customer


def test_a_customer_switches_to_german_and_no_page_shows_english(page, busy_customer):
    log_in(page, busy_customer.user.email)
    page.get_by_role("button", name="Deutsch").click()
    page.wait_for_function("document.documentElement.lang === 'de'")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Hallo")
    assert Customer.objects.get(pk=busy_customer.pk).language == "de"
    english = english_phrases("de")
    for path in PAGES:
        page.goto(path)
        assert_accessible(page, language="de")
        text = page.locator("body").inner_text()
        shown = [phrase for phrase in english if phrase in text]
        assert shown == [], f"{path} shows English: {shown}"
    # Points in the German format: 20.000.
    page.goto("/me/rewards/")
    assert "20.000 Punkte" in page.locator("main").inner_text()


def test_the_language_sticks_to_the_profile_across_sign_ins(page, busy_customer):
    log_in(page, busy_customer.user.email)
    page.get_by_role("button", name="Français").click()
    page.wait_for_function("document.documentElement.lang === 'fr'")
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    assert page.evaluate("document.documentElement.lang") == "en"
    page.get_by_label("Email").fill(busy_customer.user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_url("**/me/dashboard/")
    assert page.evaluate("document.documentElement.lang") == "fr"
    assert "Tableau de bord" in page.locator("header").inner_text()
