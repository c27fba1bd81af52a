from __future__ import annotations

import itertools

import pytest
from rest_framework.test import APIClient

from tests.partners.factories import PartnerFactory

_keys = itertools.count()


class PartnerClient(APIClient):
    """An API client that authenticates as one partner and sends a fresh Idempotency-Key
    with every POST unless the test gives its own."""

    def __init__(self, partner, **defaults):
        super().__init__(**defaults)
        self.partner = partner
        self.credentials(HTTP_AUTHORIZATION=f"Api-Key {partner.key}")

    def post(self, path, data=None, format="json", idempotency_key=None, **extra):
        key = idempotency_key if idempotency_key is not None else f"test-key-{next(_keys)}"
        if key:
            extra["HTTP_IDEMPOTENCY_KEY"] = key
        return super().post(path, data, format=format, **extra)


@pytest.fixture
def partner():
    return PartnerFactory()


@pytest.fixture
def api(partner):
    return PartnerClient(partner)


@pytest.fixture
def other_api():
    return PartnerClient(PartnerFactory())


@pytest.fixture
def linked_customer(api):
    """A customer created through the API by `api`'s partner (returned as the JSON object)."""
    response = api.post(
        "/api/v1/customers/",
        {"external_id": "shop-1", "email": "anna@example.com", "first_name": "Anna",
         "last_name": "Kim"},
    )  # fmt: skip
    assert response.status_code == 201, response.content
    return response.json()
