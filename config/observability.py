"""Every request: an id that follows the work it causes, a count for `/metrics`, a log line.

The id is kept from a proxy's `X-Request-Id` when it looks like one, else made here; the
response carries it, and so do the tasks the request queues (config/logs.py) and the
webhooks they deliver. Only ids and the route pattern are logged, never a path, a query
string, a header or a body: those can hold an email address, a token or a key.
"""

from __future__ import annotations

import logging
import time

from django.db import connection
from django.http import HttpRequest, HttpResponse

from config import metrics
from core.request_id import REQUEST_ID_HEADER, request_id_new, request_id_reset, request_id_set
from customers.models import User

request_log = logging.getLogger("kindred.requests")

UNMATCHED_ROUTE = "<unmatched>"


class DatabaseTimer:
    """A `connection.execute_wrapper` that adds up the time spent in queries."""

    def __init__(self):
        self.seconds = 0.0
        self.queries = 0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.queries += 1


def _who(request: HttpRequest) -> dict[str, int]:
    """The partner or customer a request was made by, by id, if it is already known:
    reading it must not cost the request a query of its own."""
    user = getattr(request, "user", None)
    partner = getattr(user, "partner", None)
    if partner is not None:
        return {"partner_id": partner.pk}
    if user is None or not getattr(user, "is_authenticated", False):
        return {}
    who = {"user_id": user.pk}
    # Loaded with the user (None for a user without a profile), else not asked for.
    customer = User.customer.related.get_cached_value(user, default=None)
    if customer is not None:
        who["customer_id"] = customer.pk
    return who


class RequestObservabilityMiddleware:
    """First in MIDDLEWARE, so its time and status are the ones the client sees."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_new(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id
        token = request_id_set(request_id)
        timer = DatabaseTimer()
        started = time.perf_counter()
        try:
            with connection.execute_wrapper(timer):
                response = self.get_response(request)
        finally:
            request_id_reset(token)
        seconds = time.perf_counter() - started
        match = getattr(request, "resolver_match", None)
        route = "/" + match.route if match is not None and match.route else UNMATCHED_ROUTE
        metrics.request_observe(
            method=request.method,
            route=route,
            status=response.status_code,
            seconds=seconds,
            database_seconds=timer.seconds,
        )
        response[REQUEST_ID_HEADER] = request_id
        request_log.info(
            "request",
            extra={
                "fields": {
                    "request_id": request_id,
                    "method": request.method,
                    "route": route,
                    "status": response.status_code,
                    "duration_ms": round(seconds * 1000, 2),
                    "db_ms": round(timer.seconds * 1000, 2),
                    "db_queries": timer.queries,
                    **_who(request),
                }
            },
        )
        return response
