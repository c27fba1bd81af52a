import re
import time
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from customers.models import Connection, Customer
from loyalty.selectors import balance
from referrals.attribution import COOKIE_NAME
from referrals.fragments import INVITATIONS_FRAGMENT_SECONDS
from referrals.invitations import invitation_send, invitation_token, invitations_create
from referrals.models import Invitation, LinkVisit, Referral, SuppressedEmail
from referrals.services import referral_conversion_qualify
from tests.factories import PASSWORD, CustomerFactory, purchase
from tests.referrals.factories import active_program

pytestmark = pytest.mark.django_db


@pytest.fixture
def anna():
    return CustomerFactory(email="anna@example.com", first_name="Anna")


def _signup(client, email="nora@example.org"):
    return client.post(
        reverse("account_signup"),
        {"email": email, "first_name": "Nora", "password1": PASSWORD, "password2": PASSWORD},
    )


def test_landing_shows_referrer_and_offer_counts_the_visit_and_sets_a_signed_cookie(client, anna):
    response = client.get(reverse("referrals:landing", args=[anna.referral_code.lower()]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Anna" in page and "250 welcome points" in page
    cookie = response.cookies[COOKIE_NAME]
    assert anna.referral_code in cookie.value and cookie.value != anna.referral_code
    assert cookie["httponly"] and cookie["max-age"] == 30 * 86400
    client.get(reverse("referrals:landing", args=[anna.referral_code]))
    assert LinkVisit.objects.get(referrer=anna).visits == 2


def test_unknown_code_shows_a_friendly_page_and_no_cookie(client):
    response = client.get(reverse("referrals:landing", args=["NOPE2345"]))
    assert response.status_code == 404
    page = response.content.decode()
    assert "still welcome to join us" in page and reverse("account_signup") in page
    assert COOKIE_NAME not in response.cookies


def test_full_path_signup_via_link_to_qualified_referral(client, anna):
    client.get(reverse("referrals:landing", args=[anna.referral_code]))
    assert _signup(client).status_code == 302
    nora = Customer.objects.get(user__email="nora@example.org")
    referral = Referral.objects.get(referee=nora)
    assert referral.referrer == anna and referral.source == Referral.Source.LINK
    assert Connection.objects.filter(status=Connection.Status.CONFIRMED).count() == 1

    qualified = referral_conversion_qualify(conversion=purchase(nora))
    assert qualified.status == Referral.Status.QUALIFIED
    assert balance(customer=anna).pending == qualified.program.referrer_points
    assert balance(customer=nora).pending == qualified.program.friend_points


def test_forged_cookie_attributes_nothing(client, anna):
    client.cookies[COOKIE_NAME] = f"{anna.referral_code}:"
    _signup(client)
    assert not Referral.objects.exists()


def test_signup_without_a_link_has_no_referral(client):
    _signup(client)
    assert not Referral.objects.exists()


def test_invitation_link_opens_and_signup_accepts_it(client, anna):
    (invitation,) = invitations_create(sender=anna, addresses="nora@example.org").invited
    invitation_send(invitation_id=invitation.pk)
    response = client.get(reverse("referrals:invitation", args=[invitation_token(invitation)]))
    assert response.status_code == 200
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.OPENED
    _signup(client)
    referral = Referral.objects.get()
    assert referral.source == Referral.Source.INVITATION and referral.invitation == invitation
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.ACCEPTED
    # Used once: the link no longer works.
    again = client.get(reverse("referrals:invitation", args=[invitation_token(invitation)]))
    assert again.status_code == 404
    referral_conversion_qualify(conversion=purchase(referral.referee))
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.CONVERTED


def test_signup_through_the_plain_link_still_accepts_an_invitation_to_that_address(client, anna):
    (invitation,) = invitations_create(sender=anna, addresses="nora@example.org").invited
    client.get(reverse("referrals:landing", args=[anna.referral_code]))
    _signup(client)
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.ACCEPTED
    assert Referral.objects.get().invitation == invitation


def test_signup_with_an_invited_address_and_no_cookie_is_attributed_to_the_inviter(client, anna):
    (invitation,) = invitations_create(sender=anna, addresses="Nora@example.org").invited
    _signup(client, email="nora@example.org")
    referral = Referral.objects.get()
    assert referral.referrer == anna and referral.source == Referral.Source.INVITATION
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.ACCEPTED


def test_forged_invitation_token_grants_nothing(client):
    response = client.get(reverse("referrals:invitation", args=["f" * 64]))
    assert response.status_code == 404
    assert COOKIE_NAME not in response.cookies


def test_invite_page_needs_login(client):
    response = client.get(reverse("referrals:invite"))
    assert response.status_code == 302


def test_invite_page_shows_link_qr_share_links_and_empty_state(client, anna):
    client.force_login(anna.user)
    page = client.get(reverse("referrals:invite")).content.decode()
    assert f"/r/{anna.referral_code}/" in page
    assert reverse("referrals:qr") in page
    assert "wa.me" in page and "twitter.com/intent" in page and "facebook.com/sharer" in page
    assert "haven't invited anyone yet" in page
    assert '<label for="id_addresses">' in page


def test_invite_form_reports_refused_lines_and_sends_the_good_ones(client, anna):
    client.force_login(anna.user)
    response = client.post(
        reverse("referrals:invite"),
        {"addresses": "good@example.org, bad-address, anna@example.com", "note": "Hi!"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "1 invitation on its way." in page
    assert "bad-address" in page and "not a valid email address" in page
    assert "your own address" in page
    assert Invitation.objects.get().email == "good@example.org"


def _invite_page(client, sender, address: str) -> str:
    """The answer to a paste of one address, with what differs by sender or address masked."""
    client.force_login(sender.user)
    response = client.post(
        reverse("referrals:invite"), {"addresses": address, "note": ""}, follow=True
    )
    page = response.content.decode().replace(address, "ADDRESS")
    page = page.replace(sender.referral_code, "CODE")
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)
    return re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "UUID", page)


def test_invite_form_answers_a_member_and_a_stranger_alike(client):
    CustomerFactory(email="ben@example.org")
    first, second = (
        CustomerFactory(email=f"anna{i}@example.com", first_name="Anna", last_name="Kim")
        for i in (1, 2)
    )
    member = _invite_page(client, first, "ben@example.org")
    stranger = _invite_page(client, second, "zoe@example.org")
    assert "1 invitation on its way." in member
    assert member == stranger


def test_every_address_of_a_paste_counts_against_the_daily_cap(client, anna):
    active_program(max_invitations_per_day=3)
    CustomerFactory(email="ben@example.org")
    client.force_login(anna.user)
    client.post(
        reverse("referrals:invite"),
        {"addresses": "ben@example.org anna@example.com zoe@example.org", "note": ""},
    )
    response = client.post(reverse("referrals:invite"), {"addresses": "max@example.org"})
    assert "today&#x27;s invitation limit" in response.content.decode()
    assert sorted(Invitation.objects.values_list("email", flat=True)) == [
        "ben@example.org",
        "zoe@example.org",
    ]


def test_invite_confirmation_counts_in_real_plurals(client, anna):
    client.force_login(anna.user)
    page = client.post(
        reverse("referrals:invite"),
        {"addresses": "a@example.org b@example.org", "note": ""},
        follow=True,
    ).content.decode()
    assert "2 invitations on their way." in page
    assert "(s)" not in page


def test_resend_is_offered_only_once_the_cool_down_has_passed(client, anna, settings):
    settings.INVITATION_RESEND_COOLDOWN_HOURS = 24
    (invitation,) = invitations_create(sender=anna, addresses="friend@example.org").invited
    invitation_send(invitation_id=invitation.pk)
    invitation.refresh_from_db()
    client.force_login(anna.user)
    resend = reverse("referrals:resend", args=[invitation.public_id])

    page = client.get(reverse("referrals:invite")).content.decode()
    assert resend not in page
    allowed_at = timezone.localtime(invitation.sent_at + timedelta(hours=24))
    assert f"Resend from {date_format(allowed_at, 'DATETIME_FORMAT')}" in page

    # A day passes: the cool-down ends, and so does the cached list (its fragment's seconds).
    Invitation.objects.filter(pk=invitation.pk).update(
        sent_at=timezone.now() - timedelta(hours=24, minutes=1)
    )
    later = time.time() + INVITATIONS_FRAGMENT_SECONDS + 1
    with mock.patch("django.core.cache.backends.locmem.time", mock.Mock(time=lambda: later)):
        page = client.get(reverse("referrals:invite")).content.decode()
    assert resend in page and "Resend from" not in page
    client.post(resend)
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.QUEUED


def test_refused_resend_says_when_it_will_be_allowed(client, anna):
    (invitation,) = invitations_create(sender=anna, addresses="friend@example.org").invited
    invitation_send(invitation_id=invitation.pk)
    client.force_login(anna.user)
    page = client.post(
        reverse("referrals:resend", args=[invitation.public_id]), follow=True
    ).content.decode()
    assert "You can send it again from" in page
    assert "tomorrow" not in page


def test_invite_form_without_addresses_is_an_error(client, anna):
    client.force_login(anna.user)
    response = client.post(reverse("referrals:invite"), {"addresses": "", "note": ""})
    assert response.status_code == 200
    assert not Invitation.objects.exists()
    assert "This field is required" in response.content.decode()


def test_qr_code_is_a_png_of_the_link(client, anna):
    client.force_login(anna.user)
    response = client.get(reverse("referrals:qr"))
    assert response["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG")
    assert client.get(reverse("referrals:qr")).content == response.content


def test_cancel_and_resend_views(client, anna):
    (invitation,) = invitations_create(sender=anna, addresses="friend@example.org").invited
    client.force_login(anna.user)
    resent = client.post(reverse("referrals:resend", args=[invitation.public_id]), follow=True)
    assert "can&#x27;t be sent again" in resent.content.decode()
    client.post(reverse("referrals:cancel", args=[invitation.public_id]))
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.CANCELLED

    stranger = CustomerFactory()
    client.force_login(stranger.user)
    assert client.post(reverse("referrals:cancel", args=[invitation.public_id])).status_code == 404


def test_dont_invite_me_again_from_the_email(client, anna):
    (invitation,) = invitations_create(sender=anna, addresses="friend@example.org").invited
    invitation_send(invitation_id=invitation.pk)
    body = mail.outbox[0].body
    link = next(line for line in body.splitlines() if "/no-more-invitations/" in line)
    path = link[link.index("/no-more-invitations/") :]
    assert client.get(path).status_code == 200
    assert not SuppressedEmail.objects.exists()
    response = client.post(path)
    assert response.status_code == 200
    assert SuppressedEmail.objects.count() == 1
    assert client.post(path.rstrip("/") + "x/").status_code == 400
