"""The partner API's schema as a partner's strict validator (openapi-core) reads it.

`validate_api_response` checks one answer of the test client against the operation it
answered (status, headers, body, and an error's `code` among the codes the schema lists
for that status); `validate_webhook_body` checks a webhook's body against the schema's
`webhooks` section.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache

from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.testing import MockRequest, MockResponse
from werkzeug.datastructures import Headers, ImmutableMultiDict


def error_codes_of(response: dict) -> set[str]:
    """The machine codes an error response of the schema names (its examples)."""
    examples = response.get("content", {}).get("application/json", {}).get("examples", {})
    return {
        example["value"]["code"]
        for example in examples.values()
        if isinstance(example.get("value", {}).get("code"), str)
    }


@cache
def partner_schema() -> dict:
    """The schema exactly as `/api/v1/schema/?format=json` serves it."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(schema))


@cache
def partner_openapi() -> OpenAPI:
    """The schema, checked by openapi-spec-validator when it loads."""
    return OpenAPI.from_dict(partner_schema())


def _path_template(response) -> str | None:
    match = getattr(response.wsgi_request, "resolver_match", None)
    if match is None:
        return None
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", match.route)


def documented_operation(response) -> dict | None:
    """The schema's operation for this answer's path and method; None for paths and methods
    the API does not offer (their 404 and 405 are the API's own, not operations)."""
    template = _path_template(response)
    method = response.wsgi_request.method.lower()
    return partner_schema()["paths"].get(template, {}).get(method) if template else None


def validate_api_response(response) -> None:
    """Raise if the answer does not keep to its operation in the schema."""
    operation = documented_operation(response)
    # A 500 is a crash a test provokes on purpose (and asserts), not an answer of the API.
    if operation is None or response.status_code == 500:
        return
    request = response.wsgi_request
    server = partner_schema()["servers"][0]["url"]
    content_type = response.headers.get("Content-Type", "")
    partner_openapi().validate_response(
        MockRequest(
            server,
            request.method,
            request.path,
            path_pattern=_path_template(response),
            args=dict(request.GET.items()),
            headers=dict(request.headers.items()),
            data=request.body,
            content_type=request.content_type or "application/json",
        ),
        MockResponse(
            response.content,
            status_code=response.status_code,
            headers=dict(response.headers.items()),
            content_type=content_type.split(";")[0],
        ),
    )
    if response.status_code >= 400 and content_type.startswith("application/json"):
        body = json.loads(response.content)
        if isinstance(body, dict) and isinstance(body.get("code"), str):
            listed = error_codes_of(operation["responses"][str(response.status_code)])
            assert body["code"] in listed, (
                f"{request.method} {request.path} answered {response.status_code} "
                f"{body['code']!r}; its schema lists {sorted(listed)}"
            )


@dataclass
class WebhookRequest:
    """A webhook as the partner's server receives it."""

    name: str
    body: bytes
    method: str = "post"
    content_type: str = "application/json"
    parameters: RequestParameters = field(
        default_factory=lambda: RequestParameters(
            query=ImmutableMultiDict(), header=Headers(), cookie=ImmutableMultiDict()
        )
    )


def validate_webhook_body(body: bytes) -> dict:
    """Raise if a webhook body does not keep to its event type in the schema; the event."""
    event = json.loads(body)
    partner_openapi().validate_webhook_request(WebhookRequest(name=event["type"], body=body))
    return event
