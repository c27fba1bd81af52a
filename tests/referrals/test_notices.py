"""A friend joining through a referral link or invitation tells the referrer."""

from __future__ import annotations

import pytest
from django.urls import reverse

from customers.models import Customer
from referrals.services import referral_attribute
from tests.factories import PASSWORD, CustomerFactory

pytestmark = pytest.mark.django_db


def test_a_friend_joining_through_the_link_makes_one_notice_for_the_referrer(client):
    anna = CustomerFactory(email="anna@example.com", first_name="Anna")
    client.get(reverse("referrals:landing", args=[anna.referral_code]))
    client.post(
        reverse("account_signup"),
        {"email": "nora@example.org", "first_name": "Nora", "password1": PASSWORD,
         "password2": PASSWORD},
    )  # fmt: skip
    nora = Customer.objects.get(user__email="nora@example.org")
    notice = anna.notices.get()
    assert (notice.kind, notice.actor, notice.url) == (
        "friend_joined",
        nora,
        reverse("referrals:invite"),
    )
    assert notice.text == f"{nora.name} joined through your link and is now on your friends list."
    # Attributing again returns the existing referral and announces nothing.
    referral_attribute(customer=nora, code=anna.referral_code, source="link")
    assert anna.notices.count() == 1
    assert not nora.notices.exists()


def test_a_self_referral_tells_nobody():
    anna = CustomerFactory(email="anna@example.com")
    twin = CustomerFactory(email="anna+2@example.com")
    referral = referral_attribute(customer=twin, code=anna.referral_code, source="link")
    assert referral.status == "rejected"
    assert not anna.notices.exists()
