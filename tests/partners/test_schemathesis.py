"""Property-based run of the whole API against its own OpenAPI schema (schemathesis):
no 500, and every status, content type and body is the one the schema documents."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from tests.partners.factories import PartnerFactory

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", get_wsgi_application())
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    unsupported_method,
]


def _headers(partner_key: str) -> dict[str, str]:
    # Called through WSGI, nothing would undo the gzip an HTTP client asks for (and undoes).
    return {"Authorization": f"Api-Key {partner_key}", "Accept-Encoding": "identity"}


@pytest.fixture
def partner_key(settings):
    settings.PARTNER_API_RATE = "1000000/minute"
    # As Django's test client does: the test's transaction must outlive each request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield PartnerFactory().key
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.slow
@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_keeps_to_its_schema(case, partner_key):
    case.call_and_validate(headers=_headers(partner_key), checks=CHECKS)


@pytest.mark.slow
@pytest.mark.django_db
def test_api_workflows_keep_to_their_schema(partner_key):
    """Stateful: the links schemathesis infers (a customer created, then read, awarded points,
    looked up by code...) chain real ids through the API; every step is checked as above."""

    machine = schema.as_state_machine()
    # Links are inferred from the schema (POST /customers/ feeds GET /customers/{id}/, ...):
    # if a schema change loses them, this test would silently go stateless.
    assert schema.statistic.transitions.selected >= 10

    class Workflow(machine):
        # Each scenario starts from the same database: hypothesis replays scenarios and
        # refuses ones whose steps come out differently because earlier ones left rows.
        def setup(self):
            self.savepoint = transaction.savepoint()

        def teardown(self):
            transaction.savepoint_rollback(self.savepoint)

        def get_call_kwargs(self, case):
            return {"headers": _headers(partner_key)}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS)

    Workflow.run(
        settings=settings(
            max_examples=15, stateful_step_count=6, deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    )  # fmt: skip
