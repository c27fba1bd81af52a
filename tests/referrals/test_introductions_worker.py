"""Introduction emails delivered by a real Celery worker to a real SMTP server on loopback."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from referrals.introductions import introduction_create
from referrals.models import Introduction
from tests.referrals.factories import active_program, introducer
from tests.support import wait_for

pytestmark = pytest.mark.slow
LINK = re.compile(r"https?://\S+")


def _text(message) -> str:
    return next(
        part.get_payload(decode=True).decode()
        for part in message.walk()
        if part.get_content_type() == "text/plain"
    )


def test_friend_is_asked_by_the_worker_and_a_yes_reaches_the_contact_person(
    celery_worker, smtp_sink
):
    active_program()
    anna = introducer(first_name="Anna")
    introduction = introduction_create(
        introducer=anna, friend_name="Ben", friend_email="ben@example.org", looking_for="a kitchen"
    )
    wait_for(lambda: smtp_sink.count_to("ben@example.org") == 1, timeout=60)
    (question,) = smtp_sink.messages
    assert "/no-more-invitations/" in question["List-Unsubscribe"]
    assert {"text/plain", "text/html"} <= {part.get_content_type() for part in question.walk()}
    link = next(url for url in LINK.findall(_text(question)) if "/introductions/" in url)
    assert Introduction.objects.get().consent_sent_at is not None
    # Nothing went to the contact person before the yes.
    assert smtp_sink.count_to(introduction.contact_person.email) == 0

    path = link[link.index("/introductions/") :]
    friend = Client()
    assert friend.post(path, {"answer": "yes"}).status_code == 200
    assert friend.post(path, {"answer": "yes"}).status_code == 200  # a second click
    wait_for(lambda: smtp_sink.count_to(introduction.contact_person.email) == 1, timeout=60)
    wait_for(lambda: smtp_sink.count_to("ben@example.org") == 2, timeout=60)
    wait_for(celery_worker.idle, timeout=30)
    assert len(smtp_sink.messages) == 3
    to_contact = next(m for m in smtp_sink.messages if m["To"] == introduction.contact_person.email)
    assert "ben@example.org" in _text(to_contact) and "a kitchen" in _text(to_contact)
    introduced = [m for m in smtp_sink.messages if m["To"] == "ben@example.org"][1]
    assert "Maria Rossi" in introduced["Subject"]
    assert introduction.contact_person.email in _text(introduced)
