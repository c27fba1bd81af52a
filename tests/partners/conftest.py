from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from partners.models import WebhookEvent
from partners.webhooks import webhook_body
from tests.partners.contract import validate_api_response, validate_webhook_body
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


@pytest.fixture(autouse=True)
def responses_keep_to_the_schema(monkeypatch):
    """Every answer a partner API test receives is checked against the schema by a strict
    validator (openapi-core): a status, header, body or error code the schema does not
    describe fails the test that received it."""
    request = APIClient.request

    def checked(self, **kwargs):
        response = request(self, **kwargs)
        validate_api_response(response)
        return response

    monkeypatch.setattr(APIClient, "request", checked)


@pytest.fixture(autouse=True)
def webhooks_keep_to_the_schema(request):
    """Every webhook event a partner API test wrote has a body that the schema's `webhooks`
    section describes (checked by openapi-core when the test ends)."""
    if request.node.get_closest_marker("django_db") is None:
        yield
        return
    request.getfixturevalue("db")  # set up before this fixture, so torn down after it
    yield
    for event in WebhookEvent.objects.all():
        validate_webhook_body(webhook_body(event))
