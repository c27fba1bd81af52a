"""Invitations delivered by a real Celery worker to a real SMTP server on loopback."""

import time
from datetime import timedelta
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from referrals.invitations import invitation_token, invitations_create, invitations_sweep
from referrals.models import Invitation
from referrals.tasks import email_invitations_send
from tests.factories import CustomerFactory
from tests.support import wait_for

pytestmark = pytest.mark.slow


def _status(invitation: Invitation) -> str:
    return Invitation.objects.get(pk=invitation.pk).status


def _finished(invitation: Invitation):
    status = _status(invitation)
    return status if status != Invitation.Status.QUEUED else None


def test_invitation_is_delivered_with_html_text_and_opt_out(invitation_worker, smtp_sink):
    anna = CustomerFactory(first_name="Anna")
    (invitation,) = invitations_create(sender=anna, addresses="friend@example.org").invited
    assert wait_for(lambda: _finished(invitation), timeout=60) == Invitation.Status.SENT
    (message,) = smtp_sink.messages
    assert message["To"] == "friend@example.org"
    assert "/no-more-invitations/" in message["List-Unsubscribe"]
    parts = {part.get_content_type() for part in message.walk()}
    assert {"text/plain", "text/html"} <= parts
    assert invitation_token(invitation) in message.as_string()


def test_refused_attempts_are_retried_then_sent(invitation_worker, smtp_sink):
    smtp_sink.refuse_first = 2
    anna = CustomerFactory()
    (invitation,) = invitations_create(sender=anna, addresses="friend@example.org").invited
    assert wait_for(lambda: _finished(invitation), timeout=90) == Invitation.Status.SENT
    assert smtp_sink.attempts == 3
    assert len(smtp_sink.messages) == 1
    assert Invitation.objects.get(pk=invitation.pk).attempts == 3


def test_always_refused_ends_failed_and_the_sender_sees_it(invitation_worker, smtp_sink, client):
    smtp_sink.refuse_always = True
    anna = CustomerFactory()
    (invitation,) = invitations_create(sender=anna, addresses="friend@example.org").invited
    assert wait_for(lambda: _finished(invitation), timeout=90) == Invitation.Status.FAILED
    failed = Invitation.objects.get(pk=invitation.pk)
    assert failed.attempts == 3 and "451" in failed.last_error
    assert smtp_sink.attempts == 3 and not smtp_sink.messages
    client.force_login(anna.user)
    page = client.get(reverse("referrals:invite")).content.decode()
    assert "Could not be sent" in page


def test_broker_down_at_invite_time_then_the_sweeper_sends_exactly_once(
    invitation_worker, smtp_sink
):
    anna = CustomerFactory()
    down = OperationalError("Error 111 connecting to the broker. Connection refused.")
    with mock.patch.object(email_invitations_send, "delay", side_effect=down):
        (invitation,) = invitations_create(sender=anna, addresses="friend@example.org").invited
    # The row is committed and waits; nothing reached the worker.
    assert _status(invitation) == Invitation.Status.QUEUED
    time.sleep(2)
    assert smtp_sink.attempts == 0

    Invitation.objects.filter(pk=invitation.pk).update(
        queued_at=timezone.now() - timedelta(minutes=10)
    )
    assert invitations_sweep() == 1
    assert invitations_sweep() == 0
    # A duplicate delivery of the task (a redelivery) must not send twice either.
    email_invitations_send.delay([invitation.pk])
    assert wait_for(lambda: _finished(invitation), timeout=60) == Invitation.Status.SENT
    time.sleep(3)
    assert len(smtp_sink.messages) == 1
