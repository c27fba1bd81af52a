"""The email outbox: stored with the transaction that asks for an email, delivered by a real
worker to a real SMTP server with retries, handed on by the sweeper when the broker lost it,
and sent under one Message-ID however often it is attempted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from core.emails import email_send
from core.models import OutboxEmail
from core.outbox import (
    outbox_email_attempt,
    outbox_emails_resend,
    outbox_oldest_pending_age,
    outbox_prune,
    outbox_sweep,
)
from tests.factories import CustomerFactory
from tests.support import CeleryWorker, SmtpSink, wait_for

WELCOME = {"template": "welcome"}


def _welcome(to: str = "anna@example.com") -> None:
    customer = CustomerFactory(email=to)
    email_send(
        to=to,
        template="welcome",
        context={"customer": customer, "contact": customer.contact_person},
    )


@pytest.fixture
def stored_only(settings):
    """Emails are stored and queued after commit, as in production (no send at once)."""
    settings.EMAIL_OUTBOX_SEND_AT_ONCE = False


@pytest.fixture
def smtp(settings, smtp_sink):
    """This process sends to the real SMTP server `smtp_sink`."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_sink.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    return smtp_sink


@pytest.mark.django_db(transaction=True)
def test_an_email_asked_for_in_a_rolled_back_transaction_is_neither_stored_nor_sent(
    stored_only, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        _welcome()
        assert OutboxEmail.objects.count() == 1
        raise RuntimeError("the change that asked for it failed")
    assert not OutboxEmail.objects.exists()
    assert not callbacks and not mail.outbox


@pytest.mark.django_db
def test_every_attempt_sends_the_message_id_stored_with_the_email(stored_only, settings, smtp):
    smtp.refuse_first = 1
    _welcome()
    email = OutboxEmail.objects.get()
    assert email.message_id.startswith("<") and email.message_id.endswith("@127.0.0.1>")
    retry_in = outbox_email_attempt(email_id=email.pk)
    assert retry_in == settings.EMAIL_RETRY_BACKOFF
    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutboxEmail.Status.PENDING, 1)
    assert "451" in email.last_error
    # Not before its time, however often its message arrives.
    assert outbox_email_attempt(email_id=email.pk) is None
    OutboxEmail.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now())
    assert outbox_email_attempt(email_id=email.pk) is None
    email.refresh_from_db()
    assert (email.status, email.attempts, email.last_error) == (OutboxEmail.Status.SENT, 2, "")
    assert [m["Message-ID"] for m in smtp.tried] == [email.message_id] * 2
    # Sent: a late duplicate of its message sends nothing.
    assert outbox_email_attempt(email_id=email.pk) is None
    assert len(smtp.tried) == 2


@pytest.mark.django_db
def test_an_email_ends_failed_after_its_last_attempt_or_a_permanent_refusal(
    stored_only, settings, smtp
):
    settings.EMAIL_SEND_ATTEMPTS = 2
    smtp.refuse_always = True
    _welcome()
    email = OutboxEmail.objects.get()
    assert outbox_email_attempt(email_id=email.pk) is not None
    OutboxEmail.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now())
    assert outbox_email_attempt(email_id=email.pk) is None
    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutboxEmail.Status.FAILED, 2)

    smtp.refuse_code = 550
    _welcome("ben@example.com")
    refused = OutboxEmail.objects.get(to="ben@example.com")
    assert outbox_email_attempt(email_id=refused.pk) is None
    refused.refresh_from_db()
    assert (refused.status, refused.attempts) == (OutboxEmail.Status.FAILED, 1)

    # Staff send them again: the failed ones wait once more, with a fresh budget.
    assert outbox_emails_resend(emails=OutboxEmail.objects.all()) == 2
    assert set(OutboxEmail.objects.values_list("status", "attempts")) == {("pending", 0)}


@pytest.mark.django_db
def test_resend_leaves_a_sent_email_alone(settings):
    _welcome()
    assert OutboxEmail.objects.get().status == OutboxEmail.Status.SENT
    assert outbox_emails_resend(emails=OutboxEmail.objects.all()) == 0
    assert OutboxEmail.objects.get().attempts == 1


@pytest.mark.django_db
def test_the_sweeper_hands_on_what_waited_too_long_once_per_wait(
    stored_only, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_OUTBOX_SWEEP_AFTER_SECONDS = 20
    with django_capture_on_commit_callbacks(execute=False):
        _welcome()  # its message is lost: the callbacks never run
    email = OutboxEmail.objects.get()
    now = timezone.now()
    assert outbox_sweep(now=now) == 0
    later = now + timedelta(seconds=21)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert outbox_sweep(now=later) == 1
    assert len(queued) == 1
    # Stamped: the next sweep waits again before queueing it once more.
    assert outbox_sweep(now=later + timedelta(seconds=5)) == 0
    # A worker holding it is left alone until its claim runs out.
    OutboxEmail.objects.filter(pk=email.pk).update(claimed_until=later + timedelta(minutes=1))
    assert outbox_sweep(now=later + timedelta(seconds=30)) == 0
    assert outbox_sweep(now=later + timedelta(minutes=2)) == 1


@pytest.mark.django_db
def test_the_age_of_the_oldest_waiting_email(stored_only):
    assert outbox_oldest_pending_age() == 0.0
    _welcome()
    _welcome("ben@example.com")
    now = timezone.now()
    OutboxEmail.objects.filter(to="anna@example.com").update(created_at=now - timedelta(minutes=5))
    assert outbox_oldest_pending_age(now=now) == 300.0
    OutboxEmail.objects.filter(to="anna@example.com").update(status=OutboxEmail.Status.FAILED)
    assert 0 <= outbox_oldest_pending_age(now=now) < 60


@pytest.mark.django_db
def test_sent_emails_are_pruned_after_their_keeping_days(settings):
    settings.EMAIL_OUTBOX_KEEP_DAYS = 7
    _welcome()
    now = timezone.now()
    assert outbox_prune(now=now + timedelta(days=6)) == 0
    assert outbox_prune(now=now + timedelta(days=8)) == 1
    assert not OutboxEmail.objects.exists()


@pytest.mark.django_db
def test_allauths_emails_go_through_the_outbox(client):
    CustomerFactory(email="anna@example.com")
    client.post(reverse("account_reset_password"), {"email": "anna@example.com"})
    email = OutboxEmail.objects.get(to="anna@example.com")
    (message,) = mail.outbox
    assert message.extra_headers["Message-ID"] == email.message_id
    assert message.subject == email.subject and "password" in email.subject.lower()
    assert message.alternatives and email.html


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_with_backoff_and_the_stored_message_id(stored_only):
    sink = SmtpSink(refuse_first=2).start()
    worker = CeleryWorker(env={"EMAIL_URL": sink.url, "EMAIL_RETRY_BACKOFF": "1"}).start()
    try:
        with transaction.atomic():
            _welcome()
        email = OutboxEmail.objects.get()
        wait_for(lambda: sink.messages, timeout=60)
        wait_for(lambda: OutboxEmail.objects.get().status == OutboxEmail.Status.SENT, timeout=30)
    finally:
        worker.stop()
        sink.stop()
    (message,) = sink.messages
    assert message["Message-ID"] == email.message_id
    assert (sink.attempts, OutboxEmail.objects.get().attempts) == (3, 3)
