import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from openapi_core.exceptions import OpenAPIError
from rest_framework.test import APIClient

import partners
from loyalty.ledger import InsufficientPoints
from loyalty.vouchers import RewardUnavailable, VoucherExpired, VoucherUsed, VoucherVoid
from partners.models import WebhookEvent
from partners.schema import ERROR_CODES
from tests.partners.contract import (
    error_codes_of,
    partner_openapi,
    validate_api_response,
    validate_webhook_body,
)

pytestmark = pytest.mark.django_db

DOCS = Path(__file__).resolve().parents[2] / "docs" / "partner-api.md"

CONTRACT = {
    "/api/v1/customers/": {"get", "post"},
    "/api/v1/customers/{customer_id}/": {"get"},
    "/api/v1/customers/{customer_id}/transactions/": {"get"},
    "/api/v1/customers/{customer_id}/points/": {"post"},
    "/api/v1/customers/{customer_id}/data-requests/": {"post"},
    "/api/v1/customers/{customer_id}/redact/": {"post"},
    "/api/v1/referral-codes/{code}/": {"get"},
    "/api/v1/conversions/": {"post"},
    "/api/v1/conversions/{conversion_id}/refund/": {"post"},
    "/api/v1/rewards/": {"get"},
    "/api/v1/redemptions/": {"post"},
    "/api/v1/vouchers/{code}/": {"get"},
    "/api/v1/vouchers/{code}/use/": {"post"},
    "/api/v1/reviews/": {"get"},
    "/api/v1/reviews/summary/": {"get"},
    "/api/v1/questions/": {"get"},
}


def test_schema_lists_every_contract_path_with_key_auth_and_idempotency_header():
    response = APIClient().get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert {path: set(operations) for path, operations in schema["paths"].items()} == CONTRACT
    assert schema["components"]["securitySchemes"]["ApiKey"]["name"] == "Authorization"
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
            assert ("Idempotency-Key" in headers) == (method == "post"), (path, method)
            assert "401" in operation["responses"] and "429" in operation["responses"]
    conversion = schema["paths"]["/api/v1/conversions/"]["post"]["responses"]
    assert {"201", "400", "409", "422"} <= set(conversion)


def test_schema_validates_without_warnings(tmp_path):
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml")
    )
    assert (tmp_path / "schema.yml").read_text().startswith("openapi: 3")


def test_readable_reference_is_served():
    response = APIClient().get("/api/v1/docs/")
    assert response.status_code == 200 and b"redoc" in response.content.lower()


def _schema() -> dict:
    return APIClient().get("/api/v1/schema/", {"format": "json"}).json()


def test_schema_is_openapi_3_1_with_a_server_and_every_webhook():
    schema = _schema()
    assert schema["openapi"] == "3.1.0"
    assert schema["servers"] == [{"url": settings.SITE_URL, "description": "This Kindred"}]
    assert set(schema["webhooks"]) == set(WebhookEvent.Type.values)
    for name, webhook in schema["webhooks"].items():
        body = webhook["post"]["requestBody"]["content"]["application/json"]["schema"]
        event = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
        assert event["properties"]["type"]["enum"] == [name]
        assert {"id", "type", "created_at", "data"} <= set(event["required"])


def test_the_schema_loads_in_a_strict_validator():
    """openapi-core checks the whole document (openapi-spec-validator) when it loads it."""
    assert partner_openapi().spec is not None


def test_info_points_to_nothing_a_partner_cannot_open():
    description = _schema()["info"]["description"]
    assert "docs/" not in description and ".md" not in description and ".py" not in description


def test_every_component_is_described_for_a_partner():
    for name, component in _schema()["components"]["schemas"].items():
        description = component.get("description", "")
        assert description, f"{name} has no description"
        for word in ("serializer", "DRF", "copying", "per process", "to_representation"):
            assert word.lower() not in description.lower(), (name, description)


def test_null_next_to_a_component_is_one_of_it_or_null():
    schema = _schema()
    assert '"nullable"' not in json.dumps(schema), "OpenAPI 3.1 has no `nullable`"
    schemas = schema["components"]["schemas"]
    for component, field in [("Conversion", "referral_reward"), ("Review", "reply")]:
        property_ = schemas[component]["properties"][field]
        assert {"type": "null"} in property_["oneOf"], property_
        assert "nullable" not in property_ and "allOf" not in property_


def test_a_purchase_without_a_referrer_answers_null_and_keeps_to_the_schema(api, linked_customer):
    response = api.post(
        "/api/v1/conversions/",
        {"customer": linked_customer["id"], "order_id": "A-1", "amount": "10.00",
         "currency": "EUR"},
    )  # fmt: skip
    assert response.status_code == 201 and response.json()["referral_reward"] is None
    validate_api_response(response)


def test_every_error_answer_has_a_body_and_names_its_codes():
    for path, operations in _schema()["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                if int(status) < 400:
                    continue
                assert answer["content"]["application/json"]["schema"], (path, method, status)
                assert error_codes_of(answer) or status == "400", (path, method, status)


def test_every_code_of_the_docs_and_the_code_is_in_the_schema():
    documented = set(re.findall(r"^\| \d{3} \| (.+?) \|", DOCS.read_text(), flags=re.M))
    documented = {code for cell in documented for code in re.findall(r"`(\w+)`", cell)}
    documented -= {"method_not_allowed"}  # no operation answers it: it is not an operation
    raised = set()
    for module in Path(partners.__file__).parent.glob("*.py"):
        raised |= set(re.findall(r'code(?: = |=)"(\w+)"', module.read_text()))
    raised |= {InsufficientPoints.code, RewardUnavailable.code, VoucherUsed.code,
               VoucherExpired.code, VoucherVoid.code}  # fmt: skip
    raised -= {"conflict", "voucher_error"}  # bases: never raised themselves
    in_schema = set()
    for operations in _schema()["paths"].values():
        for operation in operations.values():
            for answer in operation["responses"].values():
                in_schema |= error_codes_of(answer)
    assert documented == set(ERROR_CODES) == in_schema
    assert raised <= in_schema, raised - in_schema


def test_headers_a_partner_reads_are_declared():
    for path, operations in _schema()["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                headers = set(answer.get("headers", {}))
                if status in ("429", "503"):
                    assert "Retry-After" in headers, (path, method, status)
                if method == "post" and status.startswith("2"):
                    assert "Idempotent-Replayed" in headers, (path, method, status)


def test_the_validator_refuses_an_answer_off_the_schema(api):
    response = api.get("/api/v1/rewards/")
    validate_api_response(response)
    response.content = b'{"count": "many", "results": []}'
    with pytest.raises(OpenAPIError):
        validate_api_response(response)


def test_the_validator_refuses_an_error_code_the_operation_does_not_list(api):
    response = api.get("/api/v1/vouchers/NOSUCHCODE/")
    assert response.status_code == 404
    response.content = b'{"detail": "Not found.", "code": "voucher_used"}'
    with pytest.raises(AssertionError, match="voucher_used"):
        validate_api_response(response)


def test_the_validator_refuses_a_null_the_schema_does_not_allow(api, linked_customer):
    response = api.get(f"/api/v1/customers/{linked_customer['id']}/")
    body = response.json()
    body["points"] = None
    response.content = json.dumps(body).encode()
    with pytest.raises(OpenAPIError):
        validate_api_response(response)


def test_the_validator_refuses_a_webhook_body_off_the_schema():
    envelope = {
        "id": "603fc096-0521-497d-b89c-3752914e025b",
        "type": "customer.linked",
        "created_at": "2026-12-06T03:03:20.583502Z",
        "data": {"customer": "b48394f7-d2b0-4509-b8ed-3ec9a8f20064", "external_id": "m-1"},
    }
    validate_webhook_body(json.dumps(envelope).encode())
    for broken in (
        {**envelope, "data": {"external_id": "m-1"}},
        {**envelope, "created_at": "yesterday"},
        {key: value for key, value in envelope.items() if key != "id"},
    ):
        with pytest.raises(OpenAPIError):
            validate_webhook_body(json.dumps(broken).encode())
