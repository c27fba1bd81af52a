"""Error reports to Sentry, when SENTRY_DSN is set: Django and Celery, no personal data.

`send_default_pii` stays off (no user, cookies, addresses or bodies), and every event is
scrubbed again before it leaves: headers and variables named like a secret, and any
email address left in a message, an exception's text or a breadcrumb.
"""

from __future__ import annotations

import re
from typing import Any

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.scrubber import DEFAULT_DENYLIST, DEFAULT_PII_DENYLIST, EventScrubber

EMAIL_ADDRESS = re.compile(r"[^\s@<>\"'(),;:]+@[^\s@<>\"'(),;:]+\.[A-Za-z]{2,}")
REDACTED = "[redacted]"
# Names of headers, form fields and local variables whose value is never sent.
DENYLIST = [
    *DEFAULT_DENYLIST,
    *DEFAULT_PII_DENYLIST,
    "email",
    "new_email",
    "key",
    "idempotency_key",
    "idempotency-key",
    "webhook_secret",
    "password1",
    "password2",
    "code",
]


def _without_addresses(value: Any) -> Any:
    if isinstance(value, str):
        return EMAIL_ADDRESS.sub(REDACTED, value)
    if isinstance(value, dict):
        return {key: _without_addresses(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_addresses(item) for item in value]
    return value


def event_scrub(event: dict, hint: dict | None = None) -> dict:
    """`before_send` (and `before_breadcrumb`): email addresses out of every string."""
    return _without_addresses(event)


def sentry_init(*, dsn: str, environment: str, release: str | None, traces_sample_rate: float):
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        event_scrubber=EventScrubber(denylist=DENYLIST, recursive=True),
        before_send=event_scrub,
        before_breadcrumb=event_scrub,
        traces_sample_rate=traces_sample_rate,
        include_local_variables=True,
    )
