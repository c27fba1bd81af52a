"""A linked partner asks for a customer's data archive or their erasure."""

from __future__ import annotations

import pytest
from django.core import mail

from customers.models import Customer, DataExport
from customers.privacy import data_export_build

pytestmark = pytest.mark.django_db


def _url(customer_id: str, action: str) -> str:
    return f"/api/v1/customers/{customer_id}/{action}/"


def test_data_request_queues_an_archive_that_is_emailed_to_the_customer(
    api, linked_customer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = api.post(_url(linked_customer["id"], "data-requests"))
    assert response.status_code == 202
    assert set(response.json()) == {"id", "status", "progress", "created_at"}
    assert len(callbacks) == 1
    export = DataExport.objects.get(public_id=response.json()["id"])
    assert export.source == "partner"
    data_export_build(export_id=export.pk)
    assert mail.outbox[-1].to == ["anna@example.com"]


def test_redact_erases_the_customer_who_then_answers_404(api, linked_customer):
    response = api.post(_url(linked_customer["id"], "redact"))
    assert response.status_code == 200
    assert response.json() == {"id": linked_customer["id"], "redacted": True}
    customer = Customer.objects.get(public_id=linked_customer["id"])
    assert customer.erased_at is not None
    assert "anna" not in customer.user.email
    assert api.get(f"/api/v1/customers/{linked_customer['id']}/").status_code == 404
    assert api.get("/api/v1/customers/", {"email": "anna@example.com"}).json()["count"] == 0


def test_another_partner_can_neither_export_nor_redact(other_api, linked_customer):
    for action in ("data-requests", "redact"):
        assert other_api.post(_url(linked_customer["id"], action)).status_code == 404
    assert Customer.objects.get(public_id=linked_customer["id"]).erased_at is None
    assert not DataExport.objects.exists()


def test_redact_needs_an_idempotency_key(api, linked_customer):
    response = api.post(_url(linked_customer["id"], "redact"), idempotency_key="")
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_required"
    assert Customer.objects.get(public_id=linked_customer["id"]).erased_at is None
