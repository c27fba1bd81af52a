"""Tokens are unguessable, expire or work once, are stored hashed, and never reach the logs."""

from __future__ import annotations

import base64
import logging
import math
from datetime import timedelta

import pytest
from django.apps import apps
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework_api_key.crypto import KeyGenerator

from customers.privacy import unsubscribe_token_read, unsubscribe_url
from partners.models import PartnerAPIKey
from referrals.invitations import (
    email_suppress,
    invitation_by_token,
    invitation_send,
    invitation_token,
    invitations_create,
    suppress_url,
)
from referrals.models import Invitation
from reviews.models import ReviewPolicy, Survey
from reviews.surveys import survey_token
from tests.factories import PASSWORD, CustomerFactory, purchase
from tests.partners.factories import PartnerFactory

pytestmark = pytest.mark.django_db


def _database_holds(text: str) -> list[str]:
    """Every table and column whose stored value contains `text`."""
    found = []
    for model in apps.get_models():
        fields = [field.attname for field in model._meta.concrete_fields]
        for row in model._base_manager.values_list(*fields):
            found += [
                f"{model._meta.db_table}.{name}"
                for name, value in zip(fields, row, strict=True)
                if text in str(value)
            ]
    return found


def _signature_bits(signed: str) -> int:
    signature = signed.rsplit(":", 1)[1]
    return len(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))) * 8


def _invitation() -> tuple[Invitation, str]:
    invitation = invitations_create(sender=CustomerFactory(), addresses="friend@example.org")
    invitation = invitation.invited[0]
    return invitation, invitation_token(invitation)


def test_api_key_generator_has_at_least_128_random_bits():
    generator = PartnerAPIKey.objects.key_generator
    assert isinstance(generator, KeyGenerator)  # get_random_string: the secrets module
    assert generator.secret_key_length * math.log2(62) >= 128


def test_api_keys_are_stored_only_as_hashes():
    partner = PartnerFactory()
    _prefix, _dot, secret = partner.key.partition(".")
    assert _database_holds(partner.key) == []
    assert _database_holds(secret) == []


def test_invitation_tokens_are_unguessable_and_stored_only_as_hashes():
    invitation, token = _invitation()
    assert len(bytes.fromhex(invitation.token_salt)) * 8 >= 128  # secrets.token_hex(16)
    assert len(bytes.fromhex(token)) * 8 == 256  # HMAC-SHA256 keyed by SECRET_KEY
    assert _database_holds(token) == []
    other, other_token = _invitation()
    assert other.token_salt != invitation.token_salt and other_token != token


def test_invitation_links_expire_and_stop_working_once_accepted(settings):
    invitation, token = _invitation()
    assert invitation_by_token(token=token) is not None
    assert invitation_by_token(token=token[:-1] + ("0" if token[-1] != "0" else "1")) is None
    Invitation.objects.filter(pk=invitation.pk).update(
        queued_at=timezone.now() - timedelta(days=settings.INVITATION_EXPIRY_DAYS, seconds=1)
    )
    assert invitation_by_token(token=token) is None
    Invitation.objects.filter(pk=invitation.pk).update(
        queued_at=timezone.now(), status=Invitation.Status.ACCEPTED
    )
    assert invitation_by_token(token=token) is None


def _survey(**fields) -> Survey:
    customer = CustomerFactory()
    conversion = purchase(customer)
    return Survey.objects.create(
        customer=customer, conversion=conversion, send_after=timezone.now(), **fields
    )


def test_survey_links_are_signed_expire_and_answer_once(client):
    survey = _survey(status=Survey.Status.SENT)
    token = survey_token(survey)
    assert _signature_bits(token) >= 128
    assert survey.public_id.version == 4  # the signed value itself is random, too
    answer = reverse("reviews:survey_answer", args=[token, 9])
    forged = reverse("reviews:survey_answer", args=[token[:-2] + "xx", 9])
    assert client.post(forged, {"score": 9}).status_code == 400
    assert client.post(answer, {"score": 9}).status_code == 302
    again = reverse("reviews:survey_answer", args=[token, 0])
    assert client.post(again, {"score": 0}).status_code == 409
    assert Survey.objects.get(pk=survey.pk).score == 9

    later = _survey(status=Survey.Status.SENT)
    old_token = survey_token(later)
    days = ReviewPolicy.current().survey_link_days
    with pytest.MonkeyPatch.context() as patch:
        future = timezone.now() + timedelta(days=days, minutes=1)
        patch.setattr("time.time", lambda: future.timestamp())
        response = client.get(reverse("reviews:survey_answer", args=[old_token, 9]))
    assert response.status_code == 410
    assert Survey.objects.get(pk=later.pk).score is None


def test_unsubscribe_and_suppress_links_are_signed():
    """They do not expire on purpose (an old email's opt-out must still work) and only ever
    take something away, so a signature is what keeps a stranger from forging one."""
    customer = CustomerFactory()
    token = unsubscribe_url(customer=customer, topic="marketing").rstrip("/").rsplit("/", 1)[1]
    assert _signature_bits(token) >= 128
    assert unsubscribe_token_read(token) is not None
    assert unsubscribe_token_read(token[:-2] + "xx") is None
    signed = suppress_url("friend@example.org").rstrip("/").rsplit("/", 1)[1]
    assert _signature_bits(signed) >= 128
    assert email_suppress(signed=signed[:-2] + "xx") is False


def test_api_key_in_the_query_string_is_refused():
    partner = PartnerFactory()
    client = Client()
    for name in ("api_key", "key", "apikey", "token", "access_token"):
        response = client.get("/api/v1/rewards/", {name: partner.key})
        assert response.status_code == 401, name
    response = client.get("/api/v1/rewards/", HTTP_AUTHORIZATION=f"Api-Key {partner.key}")
    assert response.status_code == 200


def test_no_secret_reaches_the_logs(client, caplog):
    caplog.set_level(logging.DEBUG)
    partner = PartnerFactory()
    client.get("/api/v1/rewards/", HTTP_AUTHORIZATION=f"Api-Key {partner.key}")
    client.get("/api/v1/rewards/", HTTP_AUTHORIZATION=f"Api-Key {partner.key}x")
    client.post(
        reverse("account_signup"),
        {"email": "new@example.com", "first_name": "Nora", "last_name": "Lind",
         "password1": PASSWORD, "password2": PASSWORD},
    )  # fmt: skip
    client.post(
        reverse("account_login"), {"login": "new@example.com", "password": "wrong-" + PASSWORD}
    )
    invitation, token = _invitation()
    invitation_send(invitation_id=invitation.pk)
    assert token in mail.outbox[-1].body  # the token did travel, by email only
    logged = caplog.text + "".join(str(record.args) for record in caplog.records)
    for secret in (partner.key, partner.key.partition(".")[2], PASSWORD, token):
        assert secret not in logged
