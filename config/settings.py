"""Kindred settings: one module, configured by environment variables only.

Defaults are safe for production (DEBUG off, HTTPS on, no secret) except where
a value only makes sense on a developer's machine: the embedded SQLite
database, the embedded Celery broker and console email, which are what
`make run` uses when nothing else is configured.
"""

from __future__ import annotations

import os
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.management.utils import get_random_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

# What `make run` chose (DEBUG, the address it serves), kept in a file (config/devenv.py)
# so that a command typed in a new terminal runs as the demo does. A process given its own
# SECRET_KEY (production, CI, the tests) is configured by its environment alone.
DEVELOPMENT_ENV = Path(
    os.environ.get("KINDRED_DEVELOPMENT_ENV", BASE_DIR / "var" / "development.env")
)
if "SECRET_KEY" not in os.environ and DEVELOPMENT_ENV.exists():
    environ.Env.read_env(DEVELOPMENT_ENV)

VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DEBUG", default=False)


def _development_secret_key() -> str:
    """A key generated once under var/, so the web server and the worker sign alike."""
    path = VAR_DIR / "development-secret-key"
    if not path.exists():
        path.write_text(get_random_secret_key())
        path.chmod(0o600)
    return path.read_text().strip()


# A generated key is only acceptable on a developer's machine: without DEBUG a
# missing SECRET_KEY is an error, never a silent default.
# The generated key is read as it is, never through django-environ, which would take a
# key starting with "$" for the name of another variable.
SECRET_KEY = (
    (env.str("SECRET_KEY", default="") or _development_secret_key())
    if DEBUG
    else env.str("SECRET_KEY")
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Every link the portal sends (emails, the referral link and its QR code, the API) is
# absolute. On a developer's machine it follows the port `make run` serves (the Makefile
# exports PORT); in production the public address must be given, since a default would
# send customers to a loopback address.
SITE_URL = (
    env.str("SITE_URL", default=f"http://127.0.0.1:{env.int('PORT', default=8000)}")
    if DEBUG
    else env.str("SITE_URL")
).rstrip("/")
BUSINESS_NAME = env.str("BUSINESS_NAME", default="Kindred Coffee Roasters")
# The widget's launcher and buttons on partner sites wear it (a CSS colour).
BUSINESS_COLOUR = env.str("BUSINESS_COLOUR", default="#1f6f61")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "rest_framework",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_celery_beat",
    "core",
    "customers",
    "loyalty",
    "referrals",
    "reviews",
    "partners",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Languages: a signed-in customer's profile language over the browser's (needs the user).
    "customers.languages.CustomerLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

# Widgets drawn from Django's Jinja2 widget templates, the admin's from its own (core/forms.py).
FORM_RENDERER = "core.forms.WidgetRenderer"
ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.business",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'kindred.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock when a transaction starts, so two writers
    # queue on the busy timeout instead of failing with "database is locked"
    # when a read lock is upgraded half-way.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
else:
    # Parameters bound by the server, and statements a connection has run 5 times prepared,
    # so PostgreSQL stops planning the API's hot queries on every request. Behind a pooler
    # in transaction mode (PgBouncer), set DATABASE_PREPARED_STATEMENTS=0.
    if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            server_side_binding=True, prepare_threshold=5
        )
    else:
        # A pooler in transaction mode hands each transaction any server connection, so a
        # named cursor that outlives one (`.iterator()` outside `atomic`) would be lost.
        DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # Serves from the process while Redis is away, instead of raising (core/cache.py).
            "BACKEND": "core.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            # A Redis that does not answer costs a request one second at most.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    # Shared by the web server and the worker on one machine, unlike locmem.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
# Per process, for rows that may be read a few seconds late (partner API keys, the earn
# rule, the tier list, system accounts: core/process_cache.py): no round trip at all.
CACHES["local"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "kindred-local",
    "OPTIONS": {"MAX_ENTRIES": 20_000},
}

AUTH_USER_MODEL = "customers.User"
# Django's and allauth's backends, loading a signed-in user with what every portal page shows
# (customers/backends.py).
AUTHENTICATION_BACKENDS = [
    "customers.backends.PortalModelBackend",
    "customers.backends.PortalAuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_REDIRECT_URL = "dashboard"
LOGIN_URL = "account_login"

# django-allauth: email only, mandatory verification, no enumeration.
ACCOUNT_ADAPTER = "customers.adapters.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "customers.forms.SignupExtraForm"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
# A session alone (a borrowed laptop, a stolen cookie) must not take the account over:
# adding, removing or choosing an address asks for the password again if it was last
# entered longer ago than this (seconds); changing the password asks for the old one.
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_REAUTHENTICATION_TIMEOUT = env.int("ACCOUNT_REAUTHENTICATION_TIMEOUT", default=300)
# The old address is told when the email or password changes (templates/account/email/).
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{BUSINESS_NAME}] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "confirm_email": "1/3m/key",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
}

# --- Second factor and admin sessions (allauth.mfa) ---------------------------------
# Staff can issue points, export and erase customers, so a stolen staff password alone
# must not be enough: the admin opens only for a staff member who has a second factor
# and used it in this session (config/staff_mfa.py). Customers may turn one on too.
# Kept in one block, so that the app and middleware it adds are found in one place.
INSTALLED_APPS.insert(INSTALLED_APPS.index("allauth.account") + 1, "allauth.mfa")
MIDDLEWARE.append("config.staff_mfa.SecondFactorMiddleware")
MFA_ADAPTER = "customers.adapters.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_TOTP_ISSUER = BUSINESS_NAME
# A security key or passkey may also sign in on its own (it is a second factor in itself).
MFA_PASSKEY_LOGIN_ENABLED = True
# Security keys answer only for this site's own origin: https, or http://localhost (which
# browsers and fido2 count as secure, for development and the browser tests). Allowing an
# "insecure origin" would accept any origin at all, so a phishing page could relay a key.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = False
# Turning a second factor off or adding one asks for the password (or a code) again.
MFA_REAUTHENTICATION_REQUIRED = True
# Codes are checked against allauth's "login_failed" budget, per account ("5/5m/key"
# above): five wrong codes in five minutes lock code entry for that account.
MFA_RATE_LIMITS = {"webauthn_login": "10/m/ip"}
ACCOUNT_RATE_LIMITS["reauthenticate"] = "10/m/user"
# An admin session left alone this long (minutes) ends; the next admin page asks to log in.
ADMIN_SESSION_IDLE_MINUTES = env.int("ADMIN_SESSION_IDLE_MINUTES", default=30)
# -------------------------------------------------------------------------------------

# --- Page speed: sessions, compressed pages, conditional GETs (docs/operations.md) --------
# A session is read from the cache and written through to the database: no query per page,
# and sessions outlive a restart or a cleared cache (the database holds every one).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# Pages compressed (static files come compressed from whitenoise, which answers before
# these). Django's gzip adds random bytes to each response against BREACH, and the CSRF
# token is masked afresh per response, so no secret repeats byte for byte across pages.
# ConditionalGetMiddleware gives every page an ETag and answers a matching If-None-Match
# with 304 (its ETag is taken before compression: it sits inside GZipMiddleware).
MIDDLEWARE[MIDDLEWARE.index("whitenoise.middleware.WhiteNoiseMiddleware") + 1 : 0] = [
    "django.middleware.gzip.GZipMiddleware",
    "django.middleware.http.ConditionalGetMiddleware",
]
# -------------------------------------------------------------------------------------

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default=f"{BUSINESS_NAME} <hello@example.com>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
# First retry delay (seconds) after an SMTP failure; doubles on each attempt.
EMAIL_RETRY_BACKOFF = env.int("EMAIL_RETRY_BACKOFF", default=30)
# The email outbox (core/outbox.py): attempts per email before it ends failed, how long an
# email may wait past its time before the sweeper queues it again, and how long sent ones
# are kept (they hold addresses and personal messages).
EMAIL_SEND_ATTEMPTS = env.int("EMAIL_SEND_ATTEMPTS", default=8)
EMAIL_OUTBOX_SWEEP_AFTER_SECONDS = env.int("EMAIL_OUTBOX_SWEEP_AFTER_SECONDS", default=20)
EMAIL_OUTBOX_KEEP_DAYS = env.int("EMAIL_OUTBOX_KEEP_DAYS", default=7)
# Tests only (config/settings_test.py): send in the asking process at once.
EMAIL_OUTBOX_SEND_AT_ONCE = False

# Friend invitations (referrals app).
INVITATION_SEND_ATTEMPTS = env.int("INVITATION_SEND_ATTEMPTS", default=6)
INVITATION_REMINDER_DAYS = env.int("INVITATION_REMINDER_DAYS", default=3)
INVITATION_EXPIRY_DAYS = env.int("INVITATION_EXPIRY_DAYS", default=30)
INVITATION_RESEND_COOLDOWN_HOURS = env.int("INVITATION_RESEND_COOLDOWN_HOURS", default=24)
# Addresses of people who never joined are forgotten this long after their invitation ended.
INVITEE_RETENTION_DAYS = env.int("INVITEE_RETENTION_DAYS", default=30)
# An invitation still queued after this long is re-enqueued by the sweeper.
INVITATION_SWEEP_AFTER_SECONDS = env.int("INVITATION_SWEEP_AFTER_SECONDS", default=20)
# Warm introductions: a friend has this many days to answer; then the link stops working
# and their address is forgotten (only its hash stays).
INTRODUCTION_ANSWER_DAYS = env.int("INTRODUCTION_ANSWER_DAYS", default=14)

# --- Languages: English (the default), German and French ---------------------------------
# Each language is named in itself, so that a reader finds their own in any page's switcher.
# de-ch and fr-ch share the de and fr catalogues (gettext falls back from de_CH to de) and
# exist for their formats only: a Swiss browser sees 20'000 and 6.12.2026. A customer's
# profile holds en, de or fr; the browser's region refines it (see customers/languages.py).
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("de", "Deutsch"),
    ("fr", "Français"),
    ("de-ch", "Deutsch (Schweiz)"),
    ("fr-ch", "Français (Suisse)"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Django's de_CH and fr_CH group thousands with a space; Swiss usage is the apostrophe.
FORMAT_MODULE_PATH = ["config.formats"]
LANGUAGE_COOKIE_NAME = "kindred_language"
LANGUAGE_COOKIE_SAMESITE = "Lax"
# --- end of languages -----------------------------------------------------------------------
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
    # Personal data archives: never under MEDIA_URL, only streamed by a view that checks access.
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": env.str("PRIVATE_MEDIA_ROOT", default=str(VAR_DIR / "private"))},
    },
}
DATA_EXPORT_KEEP_DAYS = env.int("DATA_EXPORT_KEEP_DAYS", default=7)
# Welcome emails to imported customers (who asked for none) go out at most this fast.
CUSTOMER_IMPORT_WELCOMES_PER_MINUTE = env.int("CUSTOMER_IMPORT_WELCOMES_PER_MINUTE", default=60)
# Rows written per database transaction by a customer import (and skipped on resumption).
CUSTOMER_IMPORT_CHUNK_ROWS = env.int("CUSTOMER_IMPORT_CHUNK_ROWS", default=1000)
# A customer import's task runs this long, then queues the next slice (inside the time limit).
CUSTOMER_IMPORT_SLICE_SECONDS = env.int("CUSTOMER_IMPORT_SLICE_SECONDS", default=120)
# A customer import's file and rejected rows are deleted this long after it ends.
CUSTOMER_IMPORT_KEEP_DAYS = env.int("CUSTOMER_IMPORT_KEEP_DAYS", default=30)
# The largest customer file staff may upload (it is streamed to private storage).
CUSTOMER_IMPORT_MAX_BYTES = env.int("CUSTOMER_IMPORT_MAX_BYTES", default=500 * 1024 * 1024)
# Uploads beyond this are refused before they reach a form (avatars allow 5 MB).
DATA_UPLOAD_MAX_MEMORY_SIZE = 6 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 6 * 1024 * 1024

# HTTPS and security headers: on unless DEBUG, or switched off explicitly
# (for example behind a proxy that terminates TLS and redirects itself).
HTTPS = env.bool("HTTPS", default=not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# Preloading is a commitment a business makes for all its subdomains and is hard
# to undo, so it is opt-in (SECURE_HSTS_PRELOAD=1); the check would nag otherwise.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None
)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# The portal's pages (config/security.py): same origin only, no inline script or style.
CONTENT_SECURITY_POLICY = env.str(
    "CONTENT_SECURITY_POLICY",
    default="default-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'",
)
# The admin's pages: scripts from the same origin only (Django's admin has no inline
# script); inline style allowed, for Django's change list writes a <style> element and the
# admin's vendored widgets (jQuery, Select2) write style attributes.
ADMIN_CONTENT_SECURITY_POLICY = env.str(
    "ADMIN_CONTENT_SECURITY_POLICY",
    default="default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
)
SESSION_COOKIE_HTTPONLY = True

# Celery: Redis in production; without REDIS_URL, kombu's filesystem transport
# under var/ so that development runs a real worker on the same task path.
CELERY_BROKER_DIR = Path(env.str("CELERY_BROKER_DIR", default=str(VAR_DIR / "broker")))
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    _visibility_timeout = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": _visibility_timeout,
        # How often a worker looks for messages a dead worker left unacknowledged:
        # kombu's default sweep (about every 100 s) would make a short timeout moot.
        "unacked_restore_interval": max(1, min(10, _visibility_timeout)),
        "unacked_restore_throttle": 1,
        # A broker that does not answer costs a request a few seconds at most: enqueueing
        # gives up (core.db.enqueue_after_commit logs it) and the sweepers hand the work on.
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
    }
    CELERY_TASK_PUBLISH_RETRY_POLICY = {
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.5,
        "interval_max": 0.5,
    }
else:
    # The transport ignores the host, but kombu warns on every connection that names none.
    CELERY_BROKER_URL = "filesystem://localhost/"
    for folder in ("queue", "processed", "control"):
        (CELERY_BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_DEFAULT_QUEUE = "default"
# Queues by kind, so that a flood of invitations never delays settlement.
CELERY_TASK_ROUTES = {
    "*.email_*": {"queue": "email"},
    "*.ledger_*": {"queue": "ledger"},
    "*.webhook_*": {"queue": "webhooks"},
}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "settle-due-rewards": {"task": "loyalty.tasks.ledger_settle_due", "schedule": 300.0},
    # loyalty: settled batches whose "reward settled" emails the broker lost.
    "sweep-settled-batch-emails": {
        "task": "loyalty.tasks.email_rewards_settled_sweep",
        "schedule": 15.0,
    },
    # referrals: invitations the broker lost, reminders, expiry
    # What a broker outage left behind goes out within a minute of its return: sweepers
    # run every 15 s and take what waited 20 s past its time (`*_SWEEP_AFTER_SECONDS`).
    "invitations-sweep": {"task": "referrals.tasks.invitations_sweep", "schedule": 15.0},
    "invitations-remind": {"task": "referrals.tasks.invitations_remind", "schedule": 3600.0},
    "invitations-expire": {"task": "referrals.tasks.invitations_expire", "schedule": 3600.0},
    # partners: forget idempotency keys after their replay window.
    "purge-idempotency-records": {
        "task": "partners.tasks.idempotency_purge_expired",
        "schedule": 3600.0,
    },
    # customers: the notification centre keeps notices for 180 days.
    "prune-old-notices": {
        "task": "customers.tasks.notices_prune_old",
        "schedule": crontab(hour=4, minute=30),
    },
    # loyalty: daily expiry (reminders first) and birthday gifts.
    "loyalty-points-expire": {
        "task": "loyalty.tasks.ledger_points_expire",
        "schedule": crontab(hour=3, minute=0),
    },
    "loyalty-birthday-gifts": {
        "task": "loyalty.tasks.ledger_birthday_gifts",
        "schedule": crontab(hour=7, minute=0),
    },
    # reviews: review bonuses whose task a broker outage lost.
    "sweep-review-bonuses": {
        "task": "reviews.tasks.ledger_review_bonuses_sweep",
        "schedule": 15.0,
    },
    # reviews: NPS survey emails whose send_after has passed.
    "send-due-surveys": {"task": "reviews.tasks.email_surveys_due", "schedule": 300.0},
    # referrals: forget the addresses of invitees who never joined (data minimisation).
    "forget-old-invitees": {
        "task": "referrals.tasks.invitees_forget",
        "schedule": crontab(hour=4, minute=30),
    },
    # referrals: introduction emails the broker lost; friends' addresses after no answer.
    "introductions-sweep": {"task": "referrals.tasks.introductions_sweep", "schedule": 300.0},
    # partners: webhook retries that are due, and events a lost broker message left behind.
    "deliver-due-webhooks": {"task": "partners.tasks.webhook_deliver_due", "schedule": 15.0},
    # partners: merchants' link requests the broker lost, and those unanswered in time.
    "sweep-partner-links": {"task": "partners.tasks.partner_links_sweep", "schedule": 300.0},
    # partners: customer imports whose worker died or whose message the broker lost.
    "sweep-customer-imports": {"task": "partners.tasks.customer_imports_sweep", "schedule": 120.0},
}
CELERY_BEAT_SCHEDULE.update(
    {
        # core: emails the broker lost or a dead worker left, and sent ones past keeping.
        "sweep-email-outbox": {"task": "core.tasks.outbox_emails_sweep", "schedule": 15.0},
        "prune-email-outbox": {
            "task": "core.tasks.outbox_emails_prune",
            "schedule": crontab(hour=4, minute=45),
        },
    }
)
CELERY_TIMEZONE = TIME_ZONE

# Loyalty: staff adjustments of more points than this (either way) need a second staff member.
LOYALTY_ADJUSTMENT_APPROVAL_THRESHOLD = env.int(
    "LOYALTY_ADJUSTMENT_APPROVAL_THRESHOLD", default=1000
)

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "partners.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Kindred partner API",
    "VERSION": "1.0.0",
    "DESCRIPTION": (
        "The API a partner site (a shop, a booking site, a merchant) uses to create and "
        "link customers, report purchases and refunds, and spend points on rewards; and "
        "the signed webhooks Kindred sends it. Ask the staff of the business for an API key "
        "and your webhook secret."
    ),
    # 3.1: a null next to a component is `oneOf: [$ref, {type: null}]`, which strict
    # validators and generated clients read as nullable; and 3.1 describes webhooks.
    "OAS_VERSION": "3.1.0",
    "SERVERS": [{"url": SITE_URL, "description": "This Kindred"}],
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_GENERATE_CHOICE_DESCRIPTION": False,
    "ENUM_NAME_OVERRIDES": {
        "ActiveLink": ["active"],
        "PendingLink": ["pending"],
        "VoucherStatus": ["active", "used", "expired", "void"],
        "TransactionStatus": ["pending", "posted", "voided"],
        "RewardKind": ["discount_percent", "discount_amount", "free_product", "gift_card"],
        "LinkEndReason": ["declined", "unanswered", "redacted"],
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "partners.schema.describe_components",
    ],
    "WEBHOOKS": [
        "partners.schema.CUSTOMER_LINKED_WEBHOOK",
        "partners.schema.CUSTOMER_LINK_ENDED_WEBHOOK",
        "partners.schema.REFERRAL_QUALIFIED_WEBHOOK",
        "partners.schema.REWARD_SETTLED_WEBHOOK",
        "partners.schema.REWARD_VOIDED_WEBHOOK",
        "partners.schema.REWARD_REVERSED_WEBHOOK",
        "partners.schema.VOUCHER_ISSUED_WEBHOOK",
        "partners.schema.REVIEW_PUBLISHED_WEBHOOK",
    ],
    # The reference page's script comes from our static files, pinned with the package, so
    # it works offline and loads nothing from a CDN.
    "REDOC_DIST": "SIDECAR",
}
# Partner API: requests per API key (DRF rate syntax) and the largest request body.
PARTNER_API_RATE = env.str("PARTNER_API_RATE", default="1200/minute")
PARTNER_API_MAX_BODY_BYTES = env.int("PARTNER_API_MAX_BODY_BYTES", default=64 * 1024)
# Webhooks: seconds to wait for the partner's answer; first retry delay (doubles each time).
PARTNER_WEBHOOK_TIMEOUT = env.int("PARTNER_WEBHOOK_TIMEOUT", default=10)
PARTNER_WEBHOOK_RETRY_BASE_SECONDS = env.int("PARTNER_WEBHOOK_RETRY_BASE_SECONDS", default=30)
# After staff rotate a partner's webhook secret, the old one keeps signing this long.
PARTNER_WEBHOOK_SECRET_OVERLAP_HOURS = env.int("PARTNER_WEBHOOK_SECRET_OVERLAP_HOURS", default=72)

# --- Operations: request ids, JSON request and task logs, metrics, Sentry ------------------
# (config/observability.py, config/logs.py, config/metrics.py, config/sentry.py;
# docs/operations.md). First in MIDDLEWARE, so a request is timed and logged as answered.
MIDDLEWARE.insert(0, "config.observability.RequestObservabilityMiddleware")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "config.logs.JsonFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "json": {"class": "logging.StreamHandler", "formatter": "json"},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # One JSON line per request and per task, on stderr.
        "kindred.requests": {"handlers": ["json"], "level": "INFO", "propagate": False},
        "kindred.tasks": {"handlers": ["json"], "level": "INFO", "propagate": False},
    },
}
# `/metrics` answers only a request with `Authorization: Bearer <METRICS_TOKEN>`; without
# the variable it does not exist (404).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from config.sentry import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="development" if DEBUG else "production"),
        release=env.str("SENTRY_RELEASE", default="") or None,
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )
# -------------------------------------------------------------------------------------------
