"""The id of the request (or task) being served, so that what it causes can be traced back.

Set by the request middleware (config/observability.py) and, in a worker, from the id the
queuing request sent with the task; read where the work leaves the process: the task
messages it queues and the webhooks it delivers.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar, Token

REQUEST_ID_HEADER = "X-Request-Id"
# An id sent by a proxy in front is kept if it looks like one; anything else is replaced,
# so a client cannot write arbitrary text into the logs.
_ACCEPTABLE = re.compile(r"[A-Za-z0-9._-]{8,64}")

_current: ContextVar[str | None] = ContextVar("kindred_request_id", default=None)


def request_id_new(proposed: str | None = None) -> str:
    """`proposed` if it is a sane id, else a fresh random one."""
    if proposed and _ACCEPTABLE.fullmatch(proposed):
        return proposed
    return uuid.uuid4().hex


def request_id_get() -> str | None:
    return _current.get()


def request_id_set(value: str | None) -> Token:
    return _current.set(value)


def request_id_reset(token: Token) -> None:
    _current.reset(token)
