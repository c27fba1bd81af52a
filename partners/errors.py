"""Error bodies of the partner API (partner-api.md, "Conventions").

Validation errors keep DRF's field map (`{"field": ["message"]}`); every other
error answers `{"detail": "<human message>", "code": "<machine code>"}`.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.db import is_transient


class ApiError(exceptions.APIException):
    """An error with a machine code; subclasses name the status and the code."""


class Conflict(ApiError):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The request conflicts with the current state.")
    default_code = "conflict"


class DatabaseBusy(ApiError):
    """A transaction kept colliding with others (after retries); nothing was written."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("The service is busy; nothing was changed. Retry in a moment.")
    default_code = "database_busy"


class RequestTooLarge(ApiError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "request_too_large"


class IdempotencyKeyRequired(ApiError):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = _("An Idempotency-Key header of 1 to 255 printable characters is required.")
    default_code = "idempotency_key_required"


class IdempotencyKeyReused(ApiError):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = _("This Idempotency-Key was used with a different path or body.")
    default_code = "idempotency_key_reused"


class RequestInProgress(ApiError):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("A request with this Idempotency-Key is still running; retry later.")
    default_code = "request_in_progress"


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif is_transient(exc):
        exc = DatabaseBusy()
    response = drf_exception_handler(exc, context)
    if isinstance(exc, DatabaseBusy):
        response["Retry-After"] = "1"
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    if isinstance(exc, exceptions.ValidationError):
        if isinstance(response.data, list):
            response.data = {"non_field_errors": response.data}
        return response
    codes = exc.get_codes()
    response.data = {
        "detail": str(exc.detail),
        "code": codes if isinstance(codes, str) else exc.default_code,
    }
    return response
