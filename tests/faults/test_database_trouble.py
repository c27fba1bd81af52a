"""Database trouble: a request that fails half-way leaves nothing behind, and a
transaction that loses a race (serialization failure, deadlock) is retried or
answered 503 `database_busy`, never a 500 with partial effects."""

from __future__ import annotations

import psycopg.errors
import pytest
from django.db import OperationalError
from django.urls import reverse

from customers.models import Conversion
from loyalty import vouchers
from loyalty.audit import ledger_audit
from loyalty.models import Redemption, Transaction, Voucher
from partners import services
from partners.models import IdempotencyRecord
from referrals import invitations
from referrals.models import Invitation, Referral
from tests.factories import CustomerFactory
from tests.loyalty.factories import RewardFactory

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/conversions/"


class Injected(Exception):
    """The fault a test injects; never raised by the code under test."""


def _fail_after(monkeypatch, module, name: str, error_for_call):
    """Wrap `module.name` so that call number n raises `error_for_call(n)` if it returns one."""
    real = getattr(module, name)
    calls = []

    def wrapper(*args, **kwargs):
        calls.append(1)
        error = error_for_call(len(calls))
        if error is not None:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)
    return calls


def _database_error(cause: Exception) -> OperationalError:
    """What Django raises for a driver error: an OperationalError caused by it."""
    try:
        raise OperationalError(str(cause)) from cause
    except OperationalError as error:
        return error


@pytest.fixture
def friend(api, default_program):
    """A customer the partner created with a referrer's code: a purchase qualifies."""
    rita = CustomerFactory(first_name="Rita")
    response = api.post(
        "/api/v1/customers/",
        {"external_id": "f-1", "email": "fred@example.com", "referral_code": rita.referral_code},
    )
    assert response.status_code == 201, response.content
    return response.json()


def _order(customer_id: str, order_id: str = "A-1") -> dict:
    return {"customer": customer_id, "order_id": order_id, "amount": "120.00", "currency": "EUR"}


def test_conversion_failing_after_its_first_writes_leaves_no_rows(api, friend, monkeypatch):
    # Recording and earning have written when qualifying the referral fails.
    _fail_after(monkeypatch, services, "referral_conversion_qualify", lambda n: Injected())
    api.raise_request_exception = False
    response = api.post(URL, _order(friend["id"]), idempotency_key="order-1")
    assert response.status_code == 500
    assert not Conversion.objects.exists()
    assert not Transaction.objects.exists()
    assert not Referral.objects.filter(reward_transaction__isnull=False).exists()
    # The key was released: the partner's retry runs afresh and succeeds once.
    assert not IdempotencyRecord.objects.filter(key="order-1").exists()
    monkeypatch.undo()
    retried = api.post(URL, _order(friend["id"]), idempotency_key="order-1")
    assert retried.status_code == 201, retried.content
    assert Conversion.objects.count() == 1
    assert ledger_audit().clean


def test_invitation_batch_failing_half_way_invites_nobody(client, monkeypatch):
    anna = CustomerFactory()
    client.force_login(anna.user)
    client.raise_request_exception = False
    # The first invitation is saved when making the second one's token fails.
    _fail_after(monkeypatch, invitations, "_token_hash", lambda n: Injected() if n == 2 else None)
    response = client.post(
        reverse("referrals:invite"), {"addresses": "one@example.org, two@example.org"}
    )
    assert response.status_code == 500
    assert not Invitation.objects.exists()


def test_redemption_failing_after_the_spend_keeps_points_and_stock(api, monkeypatch):
    anna = api.post("/api/v1/customers/", {"external_id": "a-1", "email": "anna@example.com"})
    customer = anna.json()["id"]
    api.post(f"/api/v1/customers/{customer}/points/", {"points": 300, "reason": "Welcome"})
    reward = RewardFactory(points_cost=100, stock=5)
    redeem = {"customer": customer, "reward": str(reward.public_id)}
    # Stock taken and points spent when issuing the voucher fails.
    _fail_after(monkeypatch, vouchers, "voucher_issue", lambda n: Injected())
    api.raise_request_exception = False
    response = api.post("/api/v1/redemptions/", redeem, idempotency_key="redeem-1")
    assert response.status_code == 500
    reward.refresh_from_db()
    assert (
        api.get(f"/api/v1/customers/{customer}/").json()["points"]["balance"],
        reward.stock,
    ) == (
        300,
        5,
    )
    assert not Redemption.objects.exists() and not Voucher.objects.exists()
    assert Transaction.objects.count() == 1
    monkeypatch.undo()
    retried = api.post("/api/v1/redemptions/", redeem, idempotency_key="redeem-1")
    assert retried.status_code == 201, retried.content
    assert Redemption.objects.count() == 1
    assert ledger_audit().clean


LOST_RACES = {
    "serialization_failure": psycopg.errors.SerializationFailure("could not serialize access"),
    "deadlock": psycopg.errors.DeadlockDetected("deadlock detected"),
    "sqlite_busy": Exception("database is locked"),
}


@pytest.mark.parametrize("race", LOST_RACES)
def test_a_lost_race_after_the_first_write_is_retried_and_recorded_once(
    api, friend, monkeypatch, race
):
    error = _database_error(LOST_RACES[race])
    # The conversion row is written when earning its points hits the error, once.
    calls = _fail_after(
        monkeypatch, services, "conversion_earn", lambda n: error if n == 1 else None
    )
    response = api.post(URL, _order(friend["id"]))
    assert response.status_code == 201, response.content
    assert len(calls) == 2
    assert Conversion.objects.count() == 1
    assert Transaction.objects.filter(kind=Transaction.Kind.EARN).count() == 1
    assert response.json()["referral_reward"]["status"] == "pending"
    assert ledger_audit().clean


def test_a_race_lost_on_every_attempt_is_503_database_busy_and_changes_nothing(
    api, friend, monkeypatch
):
    error = _database_error(LOST_RACES["serialization_failure"])
    _fail_after(monkeypatch, services, "conversion_earn", lambda n: error)
    response = api.post(URL, _order(friend["id"]), idempotency_key="order-1")
    assert response.status_code == 503
    assert response.json() == {
        "detail": "The service is busy; nothing was changed. Retry in a moment.",
        "code": "database_busy",
    }
    assert response["Retry-After"] == "1"
    assert not Conversion.objects.exists() and not Transaction.objects.exists()
    monkeypatch.undo()
    retried = api.post(URL, _order(friend["id"]), idempotency_key="order-1")
    assert retried.status_code == 201, retried.content
    assert Conversion.objects.count() == 1


def test_other_database_errors_are_not_retried(api, friend, monkeypatch):
    error = _database_error(psycopg.errors.DiskFull("could not extend file"))
    calls = _fail_after(monkeypatch, services, "conversion_earn", lambda n: error)
    api.raise_request_exception = False
    response = api.post(URL, _order(friend["id"]))
    assert response.status_code == 500
    assert len(calls) == 1
    assert not Conversion.objects.exists()
