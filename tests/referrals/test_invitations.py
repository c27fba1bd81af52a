import smtplib
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from core.emails import email_render
from referrals import invitations
from referrals.invitations import (
    InvitationError,
    addresses_parse,
    email_suppress,
    invitation_accept_url,
    invitation_by_token,
    invitation_cancel,
    invitation_open,
    invitation_resend,
    invitation_send,
    invitation_token,
    invitations_create,
    invitations_expire,
    invitations_remind_due,
    invitations_sweep,
    suppress_url,
)
from referrals.models import Invitation, SuppressedEmail
from referrals.rules import email_key
from referrals.selectors import friend_offer
from tests.factories import CustomerFactory
from tests.referrals.factories import active_program

pytestmark = pytest.mark.django_db


@pytest.fixture
def anna():
    return CustomerFactory(email="anna@example.com", first_name="Anna")


def _invite(sender, addresses="friend@example.org", note=""):
    return invitations_create(sender=sender, addresses=addresses, note=note)


def test_parser_splits_on_commas_spaces_and_newlines_and_reports_bad_lines():
    good, refused = addresses_parse(
        "a@example.org, b@example.org\nnot-an-address ; C@example.org  A@Example.org"
    )
    assert good == ["a@example.org", "b@example.org", "c@example.org"]
    assert refused == [
        ("not-an-address", "This is not a valid email address."),
        ("A@Example.org", "This address is listed twice."),
    ]


def test_parser_refuses_more_than_fifty_and_an_empty_paste():
    with pytest.raises(InvitationError, match="50"):
        addresses_parse(" ".join(f"f{i}@example.org" for i in range(51)))
    with pytest.raises(InvitationError):
        addresses_parse(" \n ")
    good, _ = addresses_parse(" ".join(f"f{i}@example.org" for i in range(50)))
    assert len(good) == 50


def test_create_stores_hashed_token_and_enqueues_after_commit(
    anna, django_capture_on_commit_callbacks
):
    with mock.patch("referrals.tasks.email_invitations_send.delay") as delay:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            outcome = _invite(anna, "friend@example.org, pal@example.org", note="Try the beans!")
        assert delay.call_count == 0
        for callback in callbacks:
            callback()
    ids = {invitation.pk for invitation in outcome.invited}
    assert {i for call in delay.call_args_list for i in call.args[0]} == ids
    invitation = Invitation.objects.get(email="friend@example.org")
    assert invitation.status == Invitation.Status.QUEUED
    assert invitation.note == "Try the beans!"
    token = invitation_token(invitation)
    assert token not in invitation.token_hash and len(invitation.token_hash) == 64
    assert invitation_by_token(token=token) == invitation
    forged = token[:-1] + ("1" if token.endswith("0") else "0")
    assert invitation_by_token(token=forged) is None


def test_bad_addresses_are_refused_one_by_one_and_the_good_ones_go(anna):
    SuppressedEmail.objects.create(email_key=email_key("quiet@example.org"))
    _invite(anna, "pending@example.org")
    outcome = _invite(
        anna,
        "ok@example.org anna+alt@example.com quiet@example.org "
        "x@mailinator.com pending@example.org",
    )
    assert [i.email for i in outcome.invited] == ["ok@example.org"]
    assert dict(outcome.refused) == {
        "anna+alt@example.com": "That's your own address.",
        "quiet@example.org": "This address can't be invited.",
        "x@mailinator.com": "This address can't be invited.",
        "pending@example.org": "You already invited this person; they haven't answered yet.",
    }


def test_a_members_address_is_invited_like_a_strangers(anna):
    CustomerFactory(email="member@example.org")
    outcome = _invite(anna, "Member@example.org stranger@example.org")
    assert [i.email for i in outcome.invited] == ["member@example.org", "stranger@example.org"]
    assert outcome.refused == []
    invitations.invitations_send(invitation_ids=[i.pk for i in outcome.invited])
    assert sorted(message.to[0] for message in mail.outbox) == [
        "member@example.org",
        "stranger@example.org",
    ]


def test_daily_cap(anna):
    active_program(max_invitations_per_day=2)
    outcome = _invite(anna, "a@example.org b@example.org c@example.org")
    assert len(outcome.invited) == 2
    assert outcome.refused == [
        ("c@example.org", "You reached today's invitation limit; try again tomorrow.")
    ]
    assert not _invite(anna, "d@example.org").invited


def test_refused_addresses_count_against_the_daily_cap_and_past_it_nothing_is_looked_up(anna):
    active_program(max_invitations_per_day=3)
    SuppressedEmail.objects.create(email_key=email_key("quiet@example.org"))
    first = _invite(anna, "anna@example.com quiet@example.org")
    assert first.invited == [] and len(first.refused) == 2
    second = _invite(anna, "a@example.org quiet@example.org")
    assert [i.email for i in second.invited] == ["a@example.org"]
    assert second.refused == [
        ("quiet@example.org", "You reached today's invitation limit; try again tomorrow.")
    ]


def test_refusal_counts_are_forgotten_after_a_day(anna):
    active_program(max_invitations_per_day=1)
    _invite(anna, "anna@example.com")
    assert not _invite(anna, "a@example.org").invited
    with mock.patch.object(
        invitations.timezone, "now", return_value=timezone.now() + timedelta(days=1, minutes=1)
    ):
        invitations_expire()
        assert [i.email for i in _invite(anna, "a@example.org").invited] == ["a@example.org"]


def test_send_delivers_html_and_text_with_note_offer_and_opt_out(anna):
    (invitation,) = _invite(anna, note="You'll love the espresso.").invited
    assert invitation_send(invitation_id=invitation.pk).status == Invitation.Status.SENT
    (message,) = mail.outbox
    assert message.to == ["friend@example.org"]
    assert "Anna" in message.subject
    html = message.alternatives[0][0]
    for part in (message.body, html):
        assert "You&#x27;ll love the espresso." in part or "You'll love the espresso." in part
        assert invitation_token(invitation) in part
        assert suppress_url("friend@example.org") in part
        assert "250 welcome points" in part
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.SENT and invitation.attempts == 1
    # A redelivered task finds nothing to do.
    assert invitation_send(invitation_id=invitation.pk).status == "skipped"
    assert len(mail.outbox) == 1


def test_subject_with_an_apostrophe_or_ampersand_arrives_unescaped(settings):
    settings.BUSINESS_NAME = "Beans & Co"
    sender = CustomerFactory(first_name="Siobhán", last_name="O'Brien", display_name="D'Arcy")
    (invitation,) = _invite(sender).invited
    invitation_send(invitation_id=invitation.pk)
    (message,) = mail.outbox
    assert message.subject == "D'Arcy invites you to Beans & Co"
    assert "&#x27;" not in message.subject and "&amp;" not in message.subject
    # The HTML part stays escaped.
    assert "D&#x27;Arcy" in message.alternatives[0][0]


def test_a_paste_is_one_batch_and_more_are_split(anna, django_capture_on_commit_callbacks):
    with mock.patch("referrals.tasks.email_invitations_send.delay") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            _invite(anna, " ".join(f"g{i}@example.org" for i in range(25)))
        # The sweeper's lists can be longer than a paste.
        with (
            mock.patch.object(invitations, "SEND_BATCH", 10),
            django_capture_on_commit_callbacks(execute=True),
        ):
            outcome = _invite(anna, " ".join(f"f{i}@example.org" for i in range(25)))
    assert [len(call.args[0]) for call in delay.call_args_list] == [25, 10, 10, 5]
    statuses = invitations.invitations_send(invitation_ids=[i.pk for i in outcome.invited])
    assert {outcome.status for outcome in statuses.values()} == {Invitation.Status.SENT}
    assert len(mail.outbox) == 25


def test_each_friend_of_a_batch_gets_the_email_rendered_for_them(anna, settings):
    """A batch renders its templates once per sender and note, then fills in each friend's
    links: the result must be what rendering for that friend alone gives, escaping included."""
    settings.SITE_URL = "https://shop.example/a&b"
    outcome = _invite(anna, "f1@example.org f2@example.org", note='Fish & "chips" <3')
    invitations.invitations_send(invitation_ids=[i.pk for i in outcome.invited])
    by_address = {message.to[0]: message for message in mail.outbox}
    for invitation in outcome.invited:
        expected = email_render(
            template="referrals/invitation",
            context={
                "sender": anna,
                "note": invitation.note,
                "offer": friend_offer(),
                "accept_url": invitation_accept_url(invitation),
                "suppress_url": suppress_url(invitation.email),
            },
        )
        message = by_address[invitation.email]
        assert "a&amp;b" in expected.html and "a&b" in expected.body
        assert message.subject == expected.subject
        assert message.body == expected.body
        assert message.alternatives[0][0] == expected.html


def test_send_failure_backs_off_then_ends_failed(anna, settings):
    settings.INVITATION_SEND_ATTEMPTS = 3
    settings.EMAIL_RETRY_BACKOFF = 10
    (invitation,) = _invite(anna).invited
    refused = smtplib.SMTPDataError(451, b"Try again later")
    with mock.patch.object(invitations, "email_deliver", side_effect=refused):
        first = invitation_send(invitation_id=invitation.pk)
        second = invitation_send(invitation_id=invitation.pk)
        third = invitation_send(invitation_id=invitation.pk)
    assert (first.retry_in, second.retry_in, third.retry_in) == (10, 20, None)
    assert third.status == Invitation.Status.FAILED
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.FAILED
    assert "451" in invitation.last_error and invitation.attempts == 3


def test_an_unreachable_server_is_tried_once_per_batch_and_all_retry(anna, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 25
    settings.EMAIL_RETRY_BACKOFF = 10
    outcome = _invite(anna, "f1@example.org f2@example.org f3@example.org")
    down = ConnectionRefusedError(111, "Connection refused")
    with mock.patch.object(smtplib.SMTP, "connect", side_effect=down) as connect:
        outcomes = invitations.invitations_send(invitation_ids=[i.pk for i in outcome.invited])
    assert connect.call_count == 1
    assert {(o.status, o.retry_in) for o in outcomes.values()} == {(Invitation.Status.QUEUED, 10)}
    for invitation in Invitation.objects.filter(pk__in=[i.pk for i in outcome.invited]):
        assert invitation.attempts == 1 and invitation.claimed_until is None
        assert invitation.next_attempt_at and "ConnectionRefusedError" in invitation.last_error


def test_permanent_recipient_refusal_is_a_bounce(anna):
    (invitation,) = _invite(anna).invited
    bounce = smtplib.SMTPRecipientsRefused({"friend@example.org": (550, b"No such user")})
    with mock.patch.object(invitations, "email_deliver", side_effect=bounce):
        outcome = invitation_send(invitation_id=invitation.pk)
    assert outcome.status == Invitation.Status.BOUNCED and outcome.retry_in is None


def test_cancelled_invitation_is_not_sent_and_its_link_is_dead(anna):
    (invitation,) = _invite(anna).invited
    invitation_cancel(invitation=invitation, sender=anna)
    assert invitation_send(invitation_id=invitation.pk).status == "skipped"
    assert not mail.outbox
    assert invitation_open(token=invitation_token(invitation)) is None
    with pytest.raises(InvitationError):
        invitation_cancel(invitation=invitation, sender=anna)


def test_only_the_sender_can_cancel_or_resend(anna):
    (invitation,) = _invite(anna).invited
    other = CustomerFactory()
    with pytest.raises(InvitationError):
        invitation_cancel(invitation=invitation, sender=other)
    with pytest.raises(InvitationError):
        invitation_resend(invitation=invitation, sender=other)


def test_opening_the_link_marks_opened(anna):
    (invitation,) = _invite(anna).invited
    invitation_send(invitation_id=invitation.pk)
    opened = invitation_open(token=invitation_token(invitation))
    assert opened.status == Invitation.Status.OPENED and opened.opened_at


def test_resend_waits_for_the_cool_down(anna, django_capture_on_commit_callbacks):
    (invitation,) = _invite(anna).invited
    invitation_send(invitation_id=invitation.pk)
    invitation.refresh_from_db()
    with pytest.raises(InvitationError, match="recently"):
        invitation_resend(invitation=invitation, sender=anna)
    Invitation.objects.filter(pk=invitation.pk).update(sent_at=timezone.now() - timedelta(days=2))
    invitation.refresh_from_db()
    with (
        mock.patch("referrals.tasks.email_invitations_send.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        resent = invitation_resend(invitation=invitation, sender=anna)
    assert resent.status == Invitation.Status.QUEUED and resent.attempts == 0
    delay.assert_called_once_with([invitation.pk])


def test_resend_refused_once_the_address_opted_out(anna):
    (invitation,) = _invite(anna).invited
    invitation_send(invitation_id=invitation.pk)
    Invitation.objects.filter(pk=invitation.pk).update(sent_at=timezone.now() - timedelta(days=2))
    invitation.refresh_from_db()
    signed = suppress_url("friend@example.org").rstrip("/").rsplit("/", 1)[1]
    assert email_suppress(signed=signed)
    with pytest.raises(InvitationError, match="can't be invited"):
        invitation_resend(invitation=invitation, sender=anna)


def test_suppression_is_by_canonical_address_and_refuses_forged_links(anna):
    signed = suppress_url("Friend+news@Example.org").rstrip("/").rsplit("/", 1)[1]
    assert not email_suppress(signed=signed + "x")
    assert email_suppress(signed=signed)
    assert email_suppress(signed=signed)
    assert SuppressedEmail.objects.count() == 1
    outcome = _invite(anna, "friend@example.org")
    assert outcome.refused == [("friend@example.org", "This address can't be invited.")]


def test_sweeper_re_enqueues_stale_queued_once_per_interval(
    anna, settings, django_capture_on_commit_callbacks
):
    settings.INVITATION_SWEEP_AFTER_SECONDS = 300
    (stale,) = _invite(anna, "old@example.org").invited
    _invite(anna, "fresh@example.org")
    Invitation.objects.filter(pk=stale.pk).update(queued_at=timezone.now() - timedelta(minutes=6))
    with mock.patch("referrals.tasks.email_invitations_send.delay") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            assert invitations_sweep() == 1
        with django_capture_on_commit_callbacks(execute=True):
            assert invitations_sweep() == 0
    delay.assert_called_once_with([stale.pk])


def test_one_reminder_after_the_delay_then_expiry(anna, settings):
    settings.INVITATION_REMINDER_DAYS = 3
    settings.INVITATION_EXPIRY_DAYS = 30
    (invitation,) = _invite(anna).invited
    invitation_send(invitation_id=invitation.pk)
    assert invitations_remind_due() == 0
    Invitation.objects.filter(pk=invitation.pk).update(sent_at=timezone.now() - timedelta(days=4))
    sent = len(mail.outbox)
    assert invitations_remind_due() == 1
    assert invitations_remind_due() == 0
    assert len(mail.outbox) == sent + 1
    assert "reminder" in mail.outbox[-1].subject.lower()

    Invitation.objects.filter(pk=invitation.pk).update(
        queued_at=timezone.now() - timedelta(days=31)
    )
    assert invitations_expire() == 1
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.EXPIRED
    assert invitation_open(token=invitation_token(invitation)) is None
    assert not invitations.invitation_remind_send(invitation_id=invitation.pk)
