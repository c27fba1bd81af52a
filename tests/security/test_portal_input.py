"""Hostile input to the portal's forms: oversized posts, control characters, extra fields,
and header injection through what a customer writes into an invitation email."""

from __future__ import annotations

from email import message_from_bytes

import pytest
from django.core import mail
from django.urls import reverse

from customers.models import Customer, User
from referrals.invitations import invitation_send, invitations_create
from referrals.models import Invitation
from reviews.models import Review
from tests.factories import PASSWORD, CustomerFactory
from tests.reviews.factories import SubjectFactory

pytestmark = pytest.mark.django_db

INJECTION = "Hi\r\nBcc: victim@example.com\r\nSubject: free money\r\n\r\n<b>body</b>"


@pytest.fixture
def customer(client):
    customer = CustomerFactory(first_name="Anna", last_name="Kim")
    client.force_login(customer.user)
    return customer


@pytest.mark.parametrize("url", ["customers:profile", "referrals:invite", "loyalty:gift"])
def test_an_oversized_form_post_is_a_400_and_changes_nothing(client, customer, url):
    before = Customer.objects.values().get(pk=customer.pk)
    huge = "x" * 7 * 1024 * 1024  # DATA_UPLOAD_MAX_MEMORY_SIZE is 6 MB
    response = client.post(reverse(url), {"display_name": huge, "note": huge, "addresses": huge})
    assert response.status_code == 400
    assert Customer.objects.values().get(pk=customer.pk) == before
    assert not Invitation.objects.exists()


def test_a_post_with_too_many_fields_is_a_400(client, customer):
    fields = {f"field{n}": "x" for n in range(2000)}
    assert client.post(reverse("referrals:invite"), fields).status_code == 400


def _signup(client, **fields):
    data = {"email": "nora@example.com", "first_name": "Nora", "last_name": "Lind",
            "password1": PASSWORD, "password2": PASSWORD, **fields}  # fmt: skip
    return client.post(reverse("account_signup"), data)


@pytest.mark.parametrize(
    "fields",
    [{"first_name": "Nora\r\nBcc: victim@example.com"}, {"last_name": "\u202egnp.exe"},
     {"first_name": "No\x00ra"}, {"email": "nora@example.com\r\nBcc: victim@example.com"},
     {"email": "nora\x1b@example.com"}],
    ids=["crlf-name", "bidi-name", "nul-name", "crlf-email", "escape-email"],
)  # fmt: skip
def test_signup_refuses_control_characters(client, fields):
    response = _signup(client, **fields)
    assert response.status_code == 200  # the form again, with the error
    assert not User.objects.exists()


def test_signup_takes_names_in_any_script(client):
    assert _signup(client, first_name="Zoë", last_name="王小明").status_code == 302
    assert User.objects.get().first_name == "Zoë"


def test_signup_ignores_privilege_fields(client):
    _signup(client, is_staff="on", is_superuser="on", is_active="off", referral_code="AAAAAAAA")
    user = User.objects.get()
    assert not user.is_staff and not user.is_superuser
    assert user.customer.referral_code != "AAAAAAAA"


def test_profile_refuses_a_bidi_override_and_keeps_the_old_name(client, customer):
    data = {"display_name": "Anna\u202eX", "preferred_channel": "email"}
    response = client.post(reverse("customers:profile"), data)
    assert response.status_code == 200
    assert Customer.objects.get(pk=customer.pk).display_name == ""


def test_profile_ignores_extra_fields(client, customer):
    code = customer.referral_code
    response = client.post(
        reverse("customers:profile"),
        {"display_name": "Annie", "preferred_channel": "email", "referral_code": "AAAAAAAA",
         "user": User.objects.create_superuser(email="x@example.com", password="x").pk,
         "is_staff": "on", "points": 9999, "balance": 9999, "tier": "Gold",
         "referred_by": CustomerFactory().pk, "erased_at": "2020-01-01"},
    )  # fmt: skip
    assert response.status_code == 302
    customer = Customer.objects.select_related("user").get(pk=customer.pk)
    assert customer.display_name == "Annie" and customer.referral_code == code
    assert customer.user.email != "x@example.com" and not customer.user.is_staff
    assert customer.erased_at is None


def test_review_form_ignores_status_and_author(client, customer):
    other = CustomerFactory()
    subject = SubjectFactory()
    client.post(
        reverse("reviews:write", args=[subject.slug]),
        {"rating": 1, "title": "Meh", "body": "Not for me.", "status": "published",
         "author": other.pk, "helpful_count": 500, "points_awarded": 1000},
    )  # fmt: skip
    review = Review.objects.get()
    assert review.author_id == customer.pk
    assert review.status == Review.Status.PENDING  # one star waits for moderation


def test_invitation_email_headers_survive_a_hostile_note_and_name(customer):
    User.objects.filter(pk=customer.user.pk).update(first_name=INJECTION, last_name="\r\nX-Evil: 1")
    customer = Customer.objects.select_related("user").get(pk=customer.pk)
    invitation = invitations_create(sender=customer, addresses="friend@example.org", note=INJECTION)
    invitation_send(invitation_id=invitation.invited[0].pk)
    [sent] = mail.outbox
    assert sent.to == ["friend@example.org"] and not sent.bcc and not sent.cc
    parsed = message_from_bytes(sent.message().as_bytes())
    assert parsed.get_all("Bcc") is None and parsed.get_all("X-Evil") is None
    assert len(parsed.get_all("Subject")) == 1
    assert "\n" not in sent.subject and "\r" not in sent.subject
    html = sent.alternatives[0][0]
    assert "<b>body</b>" not in html and "&lt;b&gt;body&lt;/b&gt;" in html
