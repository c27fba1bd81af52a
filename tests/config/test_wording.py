"""One name for each account action on every page: "Log in", "Log out" and "Sign up"."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

# "join" in a sentence about friends ("when they join and buy") is not an action's name.
OTHER_NAMES = re.compile(r"\b(?:[Ss]ign[ -]?[Ii]n|[Ss]ign[ -]?[Oo]ut|Signup|Sign Up|Join)\b")


def _visible_text(html: str) -> str:
    """The page's words, without tags and attributes (URLs say /signup/ and that is fine)."""
    return re.sub(r"<[^>]*>", " ", html)


@pytest.mark.parametrize("name", ["home", "account_login", "account_signup"])
def test_public_pages_say_log_in_and_sign_up(client, name):
    text = _visible_text(client.get(reverse(name)).content.decode())
    assert not OTHER_NAMES.findall(text)
    assert "Log in" in text and "Sign up" in text


def test_referral_landing_says_sign_up(client):
    referrer = CustomerFactory()
    text = _visible_text(client.get(f"/r/{referrer.referral_code}/").content.decode())
    assert not OTHER_NAMES.findall(text)
    assert "Sign up now" in text


def test_logout_page_and_message_say_log_out(client):
    client.force_login(CustomerFactory().user)
    text = _visible_text(client.get(reverse("account_logout")).content.decode())
    assert not OTHER_NAMES.findall(text)
    assert "Log out" in text
    text = _visible_text(client.post(reverse("account_logout"), follow=True).content.decode())
    assert "You have logged out." in text
