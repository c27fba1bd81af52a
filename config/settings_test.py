"""Test settings: only what the suite needs on top of the real settings."""

import os
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("SITE_URL", "http://127.0.0.1:8000")
# The suite's broker folder is its own, so a `make run` worker never takes its tasks.
os.environ.setdefault(
    "CELERY_BROKER_DIR",
    str(
        Path(os.environ.get("VAR_DIR", Path(__file__).resolve().parent.parent / "var"))
        / "test-broker"
    ),
)

from .settings import *  # noqa: F403
from .settings import CACHES, STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if "EMAIL_URL" not in os.environ:
    # A worker process started by a test is given a real SMTP server instead. The test's
    # own process sends what it stores in the outbox at once, so a test reads
    # `mail.outbox` right after an action; tests of the outbox's worker turn this off.
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    EMAIL_OUTBOX_SEND_AT_ONCE = True
CACHES = {**CACHES, "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
HTTPS = False
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http"
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
