"""Idempotency keys: one mechanism for every POST of the partner API.

A request is claimed by inserting an `IdempotencyRecord` in its own committed
transaction before the view runs; the unique (partner, key) constraint decides
who runs it. The response is stored when the view answers (2xx-4xx) and
replayed to later requests with the same key, path and body (a JSON body compared
parsed, so a client that serialises it again on retry still replays). A 5xx or an
exception releases the key, so the partner's retry runs the request afresh.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta

from django.utils import timezone
from rest_framework.response import Response

from core.sql import insert_unless_taken, row_update
from partners.errors import IdempotencyKeyRequired, IdempotencyKeyReused, RequestInProgress
from partners.models import IdempotencyRecord, Partner

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# Printable ASCII, 1 to 255 characters; no space at either end, since HTTP trims it.
KEY_PATTERN = re.compile(r"^[\x21-\x7e](?:[\x20-\x7e]{0,253}[\x21-\x7e])?$")
# Replays are promised for 24 hours; the purge keeps an hour's margin.
RETENTION = timedelta(hours=25)
# A claim older than this belongs to a process that died mid-request (requests
# time out long before), so the next retry may take it over.
STALE_CLAIM = timedelta(minutes=5)


class Replay(Exception):
    """The request was answered before: its stored response is the answer."""

    def __init__(self, record: IdempotencyRecord):
        super().__init__(record.key)
        self.record = record


def canonical_body(body: bytes) -> bytes:
    """A JSON body with sorted keys and no spacing; anything else as sent."""
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return body
    return json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def request_hash(*, method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), canonical_body(body)):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def idempotency_claim(*, partner: Partner, key: str, request_hash: str) -> IdempotencyRecord:
    """Claim `key` for this request, or raise Replay, IdempotencyKeyReused or RequestInProgress."""
    if not KEY_PATTERN.fullmatch(key or ""):
        raise IdempotencyKeyRequired()
    # A loop, because a competing claim may be released between our insert and our read.
    for _attempt in range(3):
        now = timezone.now()
        record = IdempotencyRecord(
            partner=partner, key=key, request_hash=request_hash, claimed_at=now
        )
        # Outside a transaction (a view) the INSERT commits by itself; inside one, a taken
        # key leaves the caller's transaction usable.
        if insert_unless_taken(record):
            return record
        existing = IdempotencyRecord.objects.filter(partner=partner, key=key).first()
        if existing is None:
            continue
        if existing.request_hash != request_hash:
            raise IdempotencyKeyReused()
        if existing.status == IdempotencyRecord.Status.COMPLETED:
            raise Replay(existing)
        taken_over = IdempotencyRecord.objects.filter(
            pk=existing.pk,
            status=IdempotencyRecord.Status.IN_PROGRESS,
            claimed_at=existing.claimed_at,
            claimed_at__lt=now - STALE_CLAIM,
        ).update(claimed_at=now)
        if taken_over:
            existing.claimed_at = now
            return existing
        raise RequestInProgress()
    raise RequestInProgress()


def idempotency_complete(*, record: IdempotencyRecord, status: int, body) -> None:
    row_update(
        IdempotencyRecord,
        record.pk,
        {
            "status": IdempotencyRecord.Status.COMPLETED,
            "response_status": status,
            "response_body": body,
        },
    )


def idempotency_release(*, record: IdempotencyRecord) -> None:
    IdempotencyRecord.objects.filter(
        pk=record.pk, status=IdempotencyRecord.Status.IN_PROGRESS
    ).delete()


def idempotency_purge(*, now=None) -> int:
    """Forget records older than the retention; returns how many went."""
    cutoff = (now or timezone.now()) - RETENTION
    deleted, _by_model = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


class IdempotentPostMixin:
    """For API views: every POST is claimed, answered once, and replayed after that."""

    _idempotency_record: IdempotencyRecord | None = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method != "POST" or not hasattr(self, "post"):
            return  # a view without POST answers 405, not 400
        self._idempotency_record = idempotency_claim(
            partner=request.user.partner,
            key=request.headers.get(HEADER, ""),
            request_hash=request_hash(method=request.method, path=request.path, body=request.body),
        )

    def handle_exception(self, exc):
        if isinstance(exc, Replay):
            return Response(
                exc.record.response_body,
                status=exc.record.response_status,
                headers={REPLAYED_HEADER: "true"},
            )
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        record, self._idempotency_record = self._idempotency_record, None
        if record is not None:
            if response.status_code >= 500:
                idempotency_release(record=record)
            else:
                idempotency_complete(record=record, status=response.status_code, body=response.data)
        return response

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        except BaseException:
            if self._idempotency_record is not None:
                idempotency_release(record=self._idempotency_record)
                self._idempotency_record = None
            raise
