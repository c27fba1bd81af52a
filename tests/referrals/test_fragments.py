"""The invite page's cached counts and invitations are built afresh whenever the customer's
invitations or referrals change, never shared between customers, and its buttons post with
the request's own token."""

from __future__ import annotations

import re
import smtplib
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from customers.conversions import conversion_refund
from customers.privacy import customer_erase
from referrals import invitations
from referrals.invitations import (
    invitation_cancel,
    invitation_open,
    invitation_resend,
    invitation_send,
    invitation_token,
    invitations_create,
    invitations_expire,
)
from referrals.models import DisposableDomain, Invitation, Referral
from referrals.privacy import invitees_forget
from referrals.services import (
    referral_attribute,
    referral_conversion_qualify,
    referral_conversion_refund,
    referral_review,
)
from tests.factories import CustomerFactory, purchase

pytestmark = pytest.mark.django_db


@pytest.fixture
def anna(client):
    customer = CustomerFactory(email="anna@example.com", first_name="Anna")
    client.force_login(customer.user)
    return customer


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Runs a change and its after-commit callbacks, as a committed request would."""

    def run(change, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return change(*args, **kwargs)

    return run


def _page(client) -> str:
    return client.get(reverse("referrals:invite")).content.decode()


def _invite(committed, sender, address="friend@example.org") -> Invitation:
    (invitation,) = committed(invitations_create, sender=sender, addresses=address).invited
    return invitation


def test_an_invitation_shows_each_step_at_once(client, anna, committed):
    assert "You haven't invited anyone yet" in _page(client)
    invitation = _invite(committed, anna)
    page = _page(client)
    assert "friend@example.org" in page and "<td>Queued</td>" in page
    assert "1 invitation<" in page
    committed(invitation_send, invitation_id=invitation.pk)
    assert "<td>Sent</td>" in _page(client)
    committed(invitation_open, token=invitation_token(invitation))
    assert "<td>Opened</td>" in _page(client)
    committed(invitation_cancel, invitation=invitation, sender=anna)
    assert "<td>Cancelled</td>" in _page(client)


def test_a_bounce_a_resend_and_an_expiry_show_at_once(client, anna, committed):
    invitation = _invite(committed, anna)
    bounce = smtplib.SMTPRecipientsRefused({"friend@example.org": (550, b"No such user")})
    assert "<td>Queued</td>" in _page(client)
    with mock.patch.object(invitations, "email_deliver", side_effect=bounce):
        committed(invitation_send, invitation_id=invitation.pk)
    assert "<td>Bounced</td>" in _page(client)

    second = _invite(committed, anna, "cleo@example.org")
    committed(invitation_send, invitation_id=second.pk)
    Invitation.objects.filter(pk=second.pk).update(sent_at=timezone.now() - timedelta(days=2))
    second.refresh_from_db()
    assert "<td>Sent</td>" in _page(client)
    committed(invitation_resend, invitation=second, sender=anna)
    assert "<td>Sent</td>" not in _page(client)

    committed(invitation_send, invitation_id=second.pk)
    Invitation.objects.filter(pk=second.pk).update(queued_at=timezone.now() - timedelta(days=90))
    assert "<td>Sent</td>" in _page(client)
    committed(invitations_expire)
    assert "<td>Expired</td>" in _page(client)


def test_forgotten_and_erased_addresses_leave_the_list_at_once(client, anna, committed):
    forgotten = _invite(committed, anna)
    committed(invitation_cancel, invitation=forgotten, sender=anna)
    _invite(committed, anna, "ben@example.org")
    ben = CustomerFactory(email="ben@example.org")
    page = _page(client)
    assert "friend@example.org" in page and "ben@example.org" in page
    committed(invitees_forget, now=timezone.now() + timedelta(days=3650))
    assert "friend@example.org" not in _page(client)
    committed(customer_erase, customer=ben, source="customer")
    assert "ben@example.org" not in _page(client)


def test_a_friend_joining_buying_and_refunding_shows_at_once(client, anna, committed):
    invitation = _invite(committed, anna, "ben@example.org")
    committed(invitation_send, invitation_id=invitation.pk)
    assert "0 friends joined" in _page(client)
    ben = CustomerFactory(email="ben@example.org")
    committed(
        referral_attribute,
        customer=ben,
        code=anna.referral_code,
        source=Referral.Source.INVITATION,
        invitation_id=invitation.pk,
    )
    page = _page(client)
    assert "1 friend joined" in page and "<td>Accepted</td>" in page
    conversion = purchase(ben)
    committed(referral_conversion_qualify, conversion=conversion)
    page = _page(client)
    assert "1 friend earned you a reward" in page and "<td>Bought</td>" in page
    committed(referral_conversion_refund, conversion=conversion_refund(conversion=conversion))
    page = _page(client)
    assert "0 friends joined" in page and "0 friends earned you a reward" in page


def test_a_staff_decision_on_a_held_referral_shows_at_once(client, anna, committed):
    DisposableDomain.objects.get_or_create(domain="yopmail.com")
    throwaway = CustomerFactory(email="x@yopmail.com")
    held = committed(
        referral_attribute,
        customer=throwaway,
        code=anna.referral_code,
        source=Referral.Source.LINK,
    )
    assert "1 friend joined" in _page(client)
    staff = get_user_model().objects.create_user(email="staff@example.com", is_staff=True)
    committed(referral_review, referral=held, approve=False, staff=staff, reason="Throwaway.")
    assert "0 friends joined" in _page(client)


def test_a_visit_of_the_link_counts_at_once(client, anna, committed):
    assert "0 visits of your link" in _page(client)
    committed(Client().get, reverse("referrals:landing", args=[anna.referral_code]))
    assert "1 visit of your link" in _page(client)


def test_two_customers_never_see_each_others_invitations(client, anna, committed):
    _invite(committed, anna, "annas.friend@example.org")
    ben = CustomerFactory(email="ben@example.com")
    _invite(committed, ben, "bens.friend@example.org")
    bens_client = Client()
    bens_client.force_login(ben.user)
    for _ in range(2):  # built, then from the cache
        annas, bens = _page(client), _page(bens_client)
        assert "annas.friend@example.org" in annas and "bens.friend@example.org" not in annas
        assert "bens.friend@example.org" in bens and "annas.friend@example.org" not in bens


def test_the_rows_buttons_post_with_the_requests_own_token(anna, committed):
    invitation = _invite(committed, anna)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(anna.user)
    form = re.compile(
        r'<form id="invitation-action" method="post" hidden>'
        r'<input type="hidden" name="csrfmiddlewaretoken" value="([^"]+)">'
    )
    (first,) = form.findall(_page(browser))
    page = _page(browser)  # the list comes from the cache, the token is made afresh
    (token,) = form.findall(page)
    assert token != first
    cancel = reverse("referrals:cancel", args=[invitation.public_id])
    assert f'form="invitation-action" formaction="{cancel}"' in page
    assert browser.post(cancel, {"csrfmiddlewaretoken": token}).status_code == 302
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.CANCELLED
