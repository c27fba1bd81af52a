"""Warm introductions: the friend's consent, staff moves and the introducer's reward."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core import mail, signing
from django.urls import reverse
from django.utils import timezone

from customers.models import StaffAccess
from customers.privacy import customer_erase, personal_data_sections
from loyalty import ledger
from loyalty.models import Transaction
from loyalty.selectors import balance
from referrals.introductions import (
    CONSENT_SALT,
    IntroductionError,
    introduction_accepted_send,
    introduction_answer,
    introduction_by_token,
    introduction_consent_send,
    introduction_consent_token,
    introduction_create,
    introduction_move,
    introductions_sweep,
)
from referrals.invitations import email_suppress, suppress_url
from referrals.models import DisposableDomain, Introduction, IntroductionRewardKind
from tests.factories import CustomerFactory
from tests.loyalty.factories import RewardFactory
from tests.referrals.factories import active_program, introducer, introduction_said_yes

pytestmark = pytest.mark.django_db
LINK = re.compile(r"https?://\S+")


@pytest.fixture(autouse=True)
def program():
    return active_program(introduction_points=800, hold_days=14)


@pytest.fixture
def anna():
    return introducer(email="anna@example.com", first_name="Anna")


@pytest.fixture
def staff():
    return get_user_model().objects.create_user(email="sales@example.com", is_staff=True)


def _introduce(anna, **changes):
    fields = {
        "friend_name": "Ben",
        "friend_email": "ben@example.org",
        "looking_for": "a kitchen",
        "note": "Ben is moving in May.",
        **changes,
    }
    return introduction_create(introducer=anna, **fields)


def _consent_link(introduction) -> str:
    introduction_consent_send(introduction_id=introduction.pk)
    (message,) = [m for m in mail.outbox if introduction.friend_email in m.to]
    return next(link for link in LINK.findall(message.body) if "/introductions/" in link)


def _path(url: str) -> str:
    return url[url.index("/introductions/") :]


# Creating


def test_friend_is_asked_first_in_their_language_with_text_html_and_opt_out(anna):
    anna.language = "de"
    anna.save(update_fields=["language"])
    introduction = _introduce(anna)
    assert introduction.status == Introduction.Status.ASKING
    assert introduction_consent_send(introduction_id=introduction.pk)
    (message,) = mail.outbox
    assert message.to == ["ben@example.org"]
    assert "Maria Rossi" in message.subject and "Anna" in message.subject
    assert "Küche" not in message.body  # what Anna typed stays as she typed it
    assert "a kitchen" in message.body and "Ben is moving in May." in message.body
    assert "Ohne Antwort" in message.body  # German: Anna's language, for a stranger
    assert message.alternatives[0][1] == "text/html"
    assert "/no-more-invitations/" in message.extra_headers["List-Unsubscribe"]
    # Nothing reaches the contact person before the friend's yes.
    assert not introduction_accepted_send(introduction_id=introduction.pk)
    assert len(mail.outbox) == 1


def test_consent_email_is_sent_once(anna):
    introduction = _introduce(anna)
    assert introduction_consent_send(introduction_id=introduction.pk)
    assert not introduction_consent_send(introduction_id=introduction.pk)
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"friend_email": "anna+kitchen@example.com"}, "friend_email", "your own address"),
        ({"friend_email": "not-an-address"}, "friend_email", "not a valid email"),
        ({"friend_name": "  "}, "friend_name", "friend's name"),
        ({"looking_for": ""}, "looking_for", "looking for"),
    ],
)
def test_bad_introductions_are_refused_with_a_reason_and_change_nothing(
    anna, changes, field, words
):
    with pytest.raises(IntroductionError) as refused:
        _introduce(anna, **changes)
    assert refused.value.field == field and words in str(refused.value)
    assert not Introduction.objects.exists()


def test_without_a_contact_person_nobody_can_be_introduced():
    with pytest.raises(IntroductionError, match="contact person"):
        _introduce(CustomerFactory())


def test_the_same_friend_is_not_introduced_twice_while_open(anna):
    _introduce(anna)
    with pytest.raises(IntroductionError, match="already introduced"):
        _introduce(anna, friend_email="Ben@Example.org")
    assert Introduction.objects.count() == 1


def test_daily_cap(anna, program):
    program.max_introductions_per_day = 2
    program.save()
    _introduce(anna, friend_email="one@example.org")
    _introduce(anna, friend_email="two@example.org")
    with pytest.raises(IntroductionError, match="today's limit"):
        _introduce(anna, friend_email="three@example.org")
    assert Introduction.objects.count() == 2


def _assert_withheld(introduction) -> None:
    """Kept without the address, never emailed, and counted against the daily cap."""
    assert introduction.status == Introduction.Status.WITHHELD
    assert introduction.friend_email == "" and introduction.friend_email_key
    assert not introduction_consent_send(introduction_id=introduction.pk)


def test_a_friend_who_said_no_and_is_introduced_again_is_not_emailed(
    anna, django_capture_on_commit_callbacks
):
    first = _introduce(anna)
    introduction_answer(introduction_id=first.pk, accept=False)
    first.refresh_from_db()
    assert first.status == Introduction.Status.DECLINED and first.friend_email == ""
    # Another customer introduces Ben: nothing is queued, nothing is sent.
    with django_capture_on_commit_callbacks() as callbacks:
        again = _introduce(introducer())
    assert not callbacks
    _assert_withheld(again)
    assert not mail.outbox


def test_a_no_given_while_a_second_introduction_waits_withholds_its_email(anna):
    carl = introducer()
    waiting = _introduce(carl)
    introduction_answer(introduction_id=_introduce(anna).pk, accept=False)
    assert not introduction_consent_send(introduction_id=waiting.pk)
    waiting.refresh_from_db()
    assert waiting.status == Introduction.Status.WITHHELD and waiting.friend_email == ""
    assert not mail.outbox


def test_never_again_and_throwaway_addresses_are_honoured(anna, program):
    program.max_introductions_per_day = 2
    program.save()
    email_suppress(signed=suppress_url("ben@example.org").rstrip("/").rsplit("/", 1)[1])
    DisposableDomain.objects.get_or_create(domain="yopmail.com")
    _assert_withheld(_introduce(anna))
    _assert_withheld(_introduce(anna, friend_email="ben@yopmail.com"))
    # Looking addresses up is not free: both count against the daily cap.
    with pytest.raises(IntroductionError, match="today's limit"):
        _introduce(anna, friend_email="carl@example.org")
    assert not mail.outbox


def test_the_page_says_a_withheld_friend_cannot_be_asked(client, anna):
    DisposableDomain.objects.get_or_create(domain="yopmail.com")
    client.force_login(anna.user)
    response = client.post(
        reverse("referrals:introductions"),
        {"friend_name": "Ben", "friend_email": "ben@yopmail.com", "looking_for": "a kitchen"},
        follow=True,
    )
    page = response.content.decode()
    assert "We can&#x27;t ask Ben to meet us." in page
    assert "Not sent: we can&#x27;t ask this friend" in page


# The friend's answer


def test_yes_tells_the_contact_person_and_gives_the_friend_their_details(client, anna):
    introduction = _introduce(anna)
    path = _path(_consent_link(introduction))
    question = client.get(path)
    assert question.status_code == 200
    assert Introduction.objects.get().status == Introduction.Status.ASKING  # GET answers nothing
    assert "Maria Rossi" in question.content.decode()
    answered = client.post(path, {"answer": "yes"})
    assert answered.status_code == 200
    page = answered.content.decode()
    assert "contact0@example.com" in page or introduction.contact_person.email in page
    introduction.refresh_from_db()
    assert introduction.status == Introduction.Status.NEW and introduction.answered_at
    mail.outbox.clear()
    assert introduction_accepted_send(introduction_id=introduction.pk)
    to_contact, to_friend = mail.outbox
    assert to_contact.to == [introduction.contact_person.email]
    assert "ben@example.org" in to_contact.body and "a kitchen" in to_contact.body
    assert "/admin/referrals/introduction/" in to_contact.body
    assert to_friend.to == ["ben@example.org"]
    assert "Maria Rossi" in to_friend.body and introduction.contact_person.email in to_friend.body
    assert not introduction_accepted_send(introduction_id=introduction.pk)  # once


def test_a_second_consent_click_changes_nothing(client, anna):
    introduction = _introduce(anna)
    path = _path(_consent_link(introduction))
    client.post(path, {"answer": "yes"})
    again = client.post(path, {"answer": "no"})
    assert again.status_code == 200
    assert "said yes already" in again.content.decode()
    introduction.refresh_from_db()
    assert introduction.status == Introduction.Status.NEW
    assert introduction.friend_email == "ben@example.org"
    assert anna.notices.filter(kind="introduction_answered").count() == 1
    assert not introduction_answer(introduction_id=introduction.pk, accept=True).recorded


def test_no_thanks_forgets_the_address_and_tells_the_introducer(client, anna):
    introduction = _introduce(anna)
    response = client.post(_path(_consent_link(introduction)), {"answer": "no"})
    assert "won't ask you again" in response.content.decode()
    introduction.refresh_from_db()
    assert (introduction.status, introduction.friend_email) == ("declined", "")
    notice = anna.notices.get(kind="introduction_answered")
    assert "said no thanks" in notice.text


def test_an_expired_or_forged_link_shows_a_dead_link_and_changes_nothing(client, anna, settings):
    introduction = _introduce(anna)
    token = introduction_consent_token(introduction)
    settings.INTRODUCTION_ANSWER_DAYS = 0
    assert introduction_by_token(token) is None
    response = client.post(
        reverse("referrals:introduction_answer", args=[token]), {"answer": "yes"}
    )
    assert response.status_code == 404
    assert "Nobody will contact you about it." in response.content.decode()
    forged = signing.dumps(str(introduction.public_id), salt="another-salt")
    settings.INTRODUCTION_ANSWER_DAYS = 14
    assert client.get(reverse("referrals:introduction_answer", args=[forged])).status_code == 404
    assert Introduction.objects.get().status == Introduction.Status.ASKING
    assert introduction_by_token(signing.dumps(str(introduction.public_id), salt=CONSENT_SALT))


def test_an_answer_that_is_neither_yes_nor_no_is_a_400(client, anna):
    introduction = _introduce(anna)
    path = reverse("referrals:introduction_answer", args=[introduction_consent_token(introduction)])
    assert client.post(path, {"answer": "maybe"}).status_code == 400
    assert Introduction.objects.get().status == Introduction.Status.ASKING


def test_sweep_forgets_unanswered_friends_and_resends_lost_emails(
    anna, django_capture_on_commit_callbacks
):
    old = _introduce(anna, friend_email="old@example.org")
    lost = _introduce(anna, friend_email="lost@example.org")
    Introduction.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=15))
    Introduction.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(minutes=6))
    with django_capture_on_commit_callbacks() as callbacks:
        outcome = introductions_sweep()
    assert outcome == {"resent": 1, "forgotten": 1}
    assert len(callbacks) == 1
    old.refresh_from_db()
    assert (old.status, old.friend_email) == (Introduction.Status.UNANSWERED, "")
    assert old.friend_email_key  # the hash stays


# Staff moves and the reward


def test_won_posts_the_reward_held_and_moving_back_voids_it(anna, staff, program):
    introduction = introduction_said_yes(anna)
    with pytest.raises(IntroductionError, match="note"):
        introduction_move(introduction_id=introduction.pk, to_status="won", staff=staff, note=" ")
    talking = introduction_move(
        introduction_id=introduction.pk, to_status="talking", staff=staff, note="Called Ben"
    )
    assert talking.first_reply_at is not None and talking.reward_transaction is None
    won = introduction_move(
        introduction_id=introduction.pk, to_status="won", staff=staff, note="Signed"
    )
    txn = won.reward_transaction
    assert txn.status == Transaction.Status.PENDING
    assert txn.settles_at.date() == (timezone.now() + timedelta(days=14)).date()
    assert balance(customer=anna).pending == 800
    assert anna.notices.filter(kind="introduction_won").exists()
    assert StaffAccess.objects.filter(staff=staff, customer=anna, action="change").count() == 2

    back = introduction_move(
        introduction_id=introduction.pk, to_status="talking", staff=staff, note="Cancelled order"
    )
    txn.refresh_from_db()
    assert back.reward_transaction is None and txn.status == Transaction.Status.VOIDED
    assert balance(customer=anna).pending == 0
    # Won again: a new reward, with a key of its own.
    again = introduction_move(
        introduction_id=introduction.pk, to_status="won", staff=staff, note="Signed again"
    )
    assert again.reward_transaction.pk != txn.pk
    assert balance(customer=anna).pending == 800
    assert list(introduction.moves.values_list("to_status", flat=True)) == [
        "talking",
        "won",
        "talking",
        "won",
    ]


def test_moving_back_from_won_after_settlement_reverses_it(anna, staff):
    introduction = introduction_said_yes(anna)
    won = introduction_move(
        introduction_id=introduction.pk, to_status="won", staff=staff, note="Signed"
    )
    ledger.settle_due(as_of=timezone.now() + timedelta(days=15))
    assert balance(customer=anna).settled == 800
    introduction_move(introduction_id=introduction.pk, to_status="lost", staff=staff, note="Refund")
    assert won.reward_transaction.reversals.count() == 1
    assert balance(customer=anna).settled == 0


@pytest.mark.parametrize(
    ("before", "to_status", "words"),
    [
        ("asking", "won", "not said yes"),
        ("declined", "talking", "not said yes"),
        ("new", "new", "already"),
    ],
)
def test_moves_that_cannot_be_made_are_refused(anna, staff, before, to_status, words):
    introduction = _introduce(anna)
    Introduction.objects.filter(pk=introduction.pk).update(status=before)
    with pytest.raises(IntroductionError, match=words):
        introduction_move(
            introduction_id=introduction.pk, to_status=to_status, staff=staff, note="x"
        )
    assert not introduction.moves.exists() and not Transaction.objects.exists()


def test_an_existing_customer_introduced_earns_no_reward_with_the_reason(anna, staff):
    CustomerFactory(email="ben@example.org")
    introduction = introduction_said_yes(anna)
    won = introduction_move(
        introduction_id=introduction.pk, to_status="won", staff=staff, note="Sold"
    )
    assert won.reward_transaction is None
    assert "already a customer" in won.reward_reason
    assert not Transaction.objects.exists()


def test_self_introduction_is_refused_at_the_door(anna):
    with pytest.raises(IntroductionError, match="own address"):
        _introduce(anna, friend_email="a.n.n.a@example.com".replace(".", "", 3))


def test_monthly_cap_of_rewarded_introductions(anna, staff, program):
    program.max_rewarded_introductions_per_month = 1
    program.save()
    first = introduction_said_yes(anna, friend_email="one@example.org")
    second = introduction_said_yes(anna, friend_email="two@example.org")
    introduction_move(introduction_id=first.pk, to_status="won", staff=staff, note="Sold")
    capped = introduction_move(introduction_id=second.pk, to_status="won", staff=staff, note="Sold")
    assert capped.reward_transaction is None and "monthly cap" in capped.reward_reason
    assert Transaction.objects.count() == 1


def test_reward_per_won_value_needs_the_value(anna, staff, program):
    program.introduction_reward_kind = IntroductionRewardKind.PER_VALUE
    program.introduction_points_per_unit = Decimal("0.1")
    program.save()
    introduction = introduction_said_yes(anna)
    with pytest.raises(IntroductionError, match="won value") as refused:
        introduction_move(
            introduction_id=introduction.pk, to_status="won", staff=staff, note="Sold"
        )
    assert refused.value.field == "won_value"
    won = introduction_move(
        introduction_id=introduction.pk,
        to_status="won",
        staff=staff,
        note="Sold",
        won_value=Decimal("12345.00"),
    )
    assert ledger.credited_points(won.reward_transaction) == 1235


def test_voucher_reward_is_issued_and_voided_when_moved_back(anna, staff, program):
    program.introduction_reward_kind = IntroductionRewardKind.VOUCHER
    program.introduction_voucher_reward = RewardFactory(name="Dinner for two")
    program.save()
    introduction = introduction_said_yes(anna)
    won = introduction_move(
        introduction_id=introduction.pk, to_status="won", staff=staff, note="Sold"
    )
    voucher = won.reward_voucher
    assert voucher.customer == anna and voucher.status == "active"
    introduction_move(introduction_id=introduction.pk, to_status="lost", staff=staff, note="No")
    voucher.refresh_from_db()
    assert voucher.status == "void"


# The customer's page


def test_customer_introduces_a_friend_from_the_page_and_sees_the_status(client, anna, staff):
    client.force_login(anna.user)
    url = reverse("referrals:introductions")
    page = client.get(url)
    assert page.status_code == 200 and "Maria Rossi" in page.content.decode()
    response = client.post(
        url, {"friend_name": "Ben", "friend_email": "ben@example.org", "looking_for": "a kitchen"}
    )
    assert response.status_code == 302
    introduction = Introduction.objects.get()
    introduction_answer(introduction_id=introduction.pk, accept=True)
    introduction_move(introduction_id=introduction.pk, to_status="won", staff=staff, note="Sold")
    page = client.get(url).content.decode()
    assert "Won" in page and "800 points, on hold until" in page


def test_page_shows_form_errors_and_creates_nothing(client, anna):
    client.force_login(anna.user)
    response = client.post(
        reverse("referrals:introductions"),
        {"friend_name": "Ben", "friend_email": "anna@example.com", "looking_for": "a kitchen"},
    )
    assert response.status_code == 400
    assert "That&#x27;s your own address." in response.content.decode()
    assert not Introduction.objects.exists()


def test_customer_without_contact_person_sees_why(client):
    customer = CustomerFactory()
    client.force_login(customer.user)
    page = client.get(reverse("referrals:introductions")).content.decode()
    assert "don't have a contact person yet" in page


def test_introductions_are_exported_and_erased(anna):
    introduction = _introduce(anna)
    (section,) = [s for s in personal_data_sections(customer=anna) if s.name == "referrals"]
    (made,) = section.records["introductions_made"]
    assert made["friend_email"] == "ben@example.org" and made["looking_for"] == "a kitchen"
    customer_erase(customer=anna, source="portal")
    introduction.refresh_from_db()
    assert introduction.status == Introduction.Status.UNANSWERED
    assert (introduction.friend_name, introduction.friend_email, introduction.note) == ("", "", "")


def test_an_erased_friend_loses_their_introductions(anna, staff):
    introduction = introduction_said_yes(anna)
    introduction_move(
        introduction_id=introduction.pk, to_status="talking", staff=staff, note="Ben said hi"
    )
    ben = CustomerFactory(email="ben@example.org")
    customer_erase(customer=ben, source="portal")
    introduction.refresh_from_db()
    assert (introduction.friend_name, introduction.friend_email, introduction.looking_for) == (
        "",
        "",
        "",
    )
    assert introduction.moves.get().note == ""
    assert not anna.notices.filter(kind="introduction_answered").exists()
