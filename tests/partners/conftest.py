from __future__ import annotations

import pytest

from tests.partners.factories import PartnerFactory
from tests.support import PartnerClient


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
