import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

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
