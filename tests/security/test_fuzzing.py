"""Property-based fuzzing of what customers type: the invitation address parser and the
review form (through to the service). Whatever comes in, the answer is a clean refusal
or clean data, never an exception."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from referrals.invitations import MAX_ADDRESSES, InvitationError, addresses_parse
from referrals.rules import email_canonical
from reviews.forms import ReviewForm
from reviews.models import Review
from reviews.services import ReviewError, review_create
from tests.factories import CustomerFactory
from tests.reviews.factories import SubjectFactory

SEPARATORS = st.sampled_from([",", ";", " ", "\n", "\r\n", "\t", ", ", "\u00a0", "\u2028"])
# Pieces an attacker or a clumsy paste brings: addresses, brackets, quotes, controls, unicode.
PIECES = st.one_of(
    st.emails(),
    st.sampled_from(["<a@example.com>", '"Anna" <anna@example.com>', "a@b", "@", "a@@b.com",
                     "a@example.com\x00", "\x1b[31m", "ä@例え.jp", "a@example.com\r\nBcc: x@y.z",
                     "'quoted'@example.com", "a" * 300 + "@example.com", "A@EXAMPLE.COM"]),
    st.text(max_size=20),
)  # fmt: skip
PASTES = st.lists(st.tuples(PIECES, SEPARATORS), max_size=60).map(
    lambda parts: "".join(piece + sep for piece, sep in parts)
)


@settings(max_examples=300, deadline=None)
@given(raw=st.one_of(PASTES, st.text()))
def test_address_parser_only_ever_returns_valid_distinct_addresses(raw):
    try:
        good, refused = addresses_parse(raw)
    except InvitationError:
        return  # nothing usable, or too many: the whole paste is refused with a message
    assert len(good) <= MAX_ADDRESSES
    for address in good:
        validate_email(address)
        assert address == address.lower() and address.isprintable()
        assert not any(char in address for char in '\r\n\t<>" ,;')
    assert len({email_canonical(address) for address in good}) == len(good)
    assert all(message for _token, message in refused)


TEXT = st.text(st.characters(codec="utf-8"), max_size=6000)


@pytest.mark.django_db
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rating=st.one_of(st.text(max_size=5), st.integers(-10, 10).map(str)), title=TEXT, body=TEXT)
def test_review_form_and_service_accept_clean_data_or_refuse_it(rating, title, body):
    form = ReviewForm({"rating": rating, "title": title, "body": body}, {})
    if not form.is_valid():
        assert form.errors
        return
    data = form.cleaned_data
    assert data["rating"] in range(1, 6)
    assert len(data["title"]) <= 120 and len(data["body"]) <= 5000
    with transaction.atomic():
        try:
            review = review_create(
                author=CustomerFactory(), subject=SubjectFactory(), rating=data["rating"],
                title=data["title"], body=data["body"], photos=data["photos"],
            )  # fmt: skip
        except (ValidationError, ReviewError):
            assert not Review.objects.exists()
        else:
            assert review.title == data["title"].strip()
        transaction.set_rollback(True)
