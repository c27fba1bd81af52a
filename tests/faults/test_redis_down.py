"""Redis, broker and cache both, goes away for a minute under partner API load and portal
logins, as in production: gunicorn with production settings, a worker with the beat, and
a Redis the test owns. No request answers 5xx, and once Redis is back every effect asked for
(webhooks, emails, invitations) is delivered once, within a minute."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.db import connection

from core.models import OutboxEmail
from partners.models import WebhookEvent
from referrals.models import Invitation
from tests.factories import PASSWORD, CustomerFactory
from tests.partners.factories import PartnerFactory
from tests.partners.test_webhooks import Receiver
from tests.support import BASE_DIR, CeleryWorker, database_url, free_port, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

OUTAGE_SECONDS = float(os.environ.get("FAULTS_REDIS_OUTAGE_SECONDS", 60))
LOGIN_EVERY_SECONDS = 3  # under allauth's 30 logins a minute from one address
DELIVERED_WITHIN_SECONDS = 60


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _request(url: str, **kwargs) -> urllib.request.Request:
    """A request to the test's own server on loopback (never another scheme)."""
    return urllib.request.Request(url, **kwargs)  # noqa: S310


def _call(opener, request) -> tuple[int, bytes]:
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


class Site:
    """The gunicorn server under test, with production settings on the test's database."""

    def __init__(self, *, redis_url: str, smtp_url: str, var_dir: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "0",
            "SECRET_KEY": "redis-down-test-key-0123456789abcdefghijklmnopqrstuvwxyz",
            "SITE_URL": self.url,
            "ALLOWED_HOSTS": "127.0.0.1",
            "HTTPS": "0",
            "DATABASE_URL": database_url(),
            "CONN_MAX_AGE": "0",
            "REDIS_URL": redis_url,
            "EMAIL_URL": smtp_url,
            "LOG_LEVEL": "WARNING",
            # Its own static files, collected as a deployment does (hashed names).
            "VAR_DIR": str(var_dir),
        }
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=BASE_DIR, env=env, check=True,
        )  # fmt: skip
        self.log_path = var_dir / "web.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [str(BASE_DIR / ".venv" / "bin" / "gunicorn"), "config.wsgi", "--workers=2",
             "--threads=4", f"--bind=127.0.0.1:{self.port}", "--timeout=60"],
            cwd=BASE_DIR, env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_for(self._answers, timeout=60, interval=0.3)

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/health/", timeout=5) as response:  # noqa: S310
                return response.status == 200
        except OSError:
            return False

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)
        self._log.close()


class Load:
    """Partner API requests and portal logins in threads, every answer's status kept."""

    def __init__(self, site: Site, *, partner, referrer, members):
        self.site = site
        self.partner, self.referrer, self.members = partner, referrer, members
        self.statuses: list[tuple[str, int, float]] = []
        self.stopping = threading.Event()
        self.threads = [
            threading.Thread(target=self._partner, args=(n,), daemon=True) for n in range(2)
        ] + [threading.Thread(target=self._portal, daemon=True)]
        self._serial = iter(range(1, 10**6))
        self._lock = threading.Lock()

    def start(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(60)

    def _record(self, what: str, status: int) -> None:
        with self._lock:
            self.statuses.append((what, status, time.monotonic()))

    def _api(self, opener, method: str, path: str, body: dict | None = None):
        with self._lock:
            key = f"load-{next(self._serial)}"
        request = _request(
            self.site.url + path,
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={
                "Authorization": f"Api-Key {self.partner.key}",
                "Content-Type": "application/json",
                "Idempotency-Key": key,
            },
        )
        status, content = _call(opener, request)
        self._record(f"{method} {path.split('/')[3]}", status)
        return status, content

    def _partner(self, thread: int) -> None:
        opener = urllib.request.build_opener()
        n = 0
        while not self.stopping.is_set():
            n += 1
            status, content = self._api(
                opener, "POST", "/api/v1/customers/",
                {"external_id": f"t{thread}-{n}", "email": f"friend-{thread}-{n}@example.org",
                 "referral_code": self.referrer.referral_code},
            )  # fmt: skip
            if status != 201:
                continue
            customer = json.loads(content)["id"]
            self._api(opener, "GET", f"/api/v1/customers/{customer}/")
            self._api(
                opener, "POST", "/api/v1/conversions/",
                {"customer": customer, "order_id": f"O-{thread}-{n}", "amount": "30.00",
                 "currency": "EUR"},
            )  # fmt: skip

    def _portal(self) -> None:
        n = 0
        while not self.stopping.is_set():
            member = self.members[n % len(self.members)]
            n += 1
            jar = http.cookiejar.CookieJar()
            opener = urllib.request.build_opener(
                urllib.request.HTTPCookieProcessor(jar), _NoRedirect
            )
            status, page = _call(opener, _request(self.site.url + "/accounts/login/"))
            self._record("GET login", status)
            token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
            if status == 200 and token:
                form = {"login": member.user.email, "password": PASSWORD,
                        "csrfmiddlewaretoken": token.group(1).decode()}  # fmt: skip
                status, _ = _call(
                    opener,
                    _request(
                        self.site.url + "/accounts/login/",
                        data=urllib.parse.urlencode(form).encode(),
                        headers={"Referer": self.site.url + "/accounts/login/"},
                    ),
                )
                self._record("POST login", status)
                if status == 302:
                    self._invite(opener, jar, f"invited-{n}@example.org")
            self.stopping.wait(LOGIN_EVERY_SECONDS)

    def _invite(self, opener, jar, address: str) -> None:
        status, _page = _call(opener, _request(self.site.url + "/me/dashboard/"))
        self._record("GET dashboard", status)
        # The referral link's QR code, cached in the shared cache.
        status, _png = _call(opener, _request(self.site.url + "/me/invite/qr.png"))
        self._record("GET qr", status)
        csrf = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
        status, _ = _call(
            opener,
            _request(
                self.site.url + "/me/invite/",
                data=urllib.parse.urlencode(
                    {"addresses": address, "csrfmiddlewaretoken": csrf}
                ).encode(),
                headers={"Referer": self.site.url + "/me/dashboard/"},
            ),
        )
        self._record("POST invite", status)

    def between(self, start: float, end: float) -> Counter:
        return Counter((what, status) for what, status, at in self.statuses if start <= at < end)


def _everything_delivered() -> bool:
    return (
        not OutboxEmail.objects.exclude(status=OutboxEmail.Status.SENT).exists()
        and not WebhookEvent.objects.exclude(status=WebhookEvent.Status.DELIVERED).exists()
        and not Invitation.objects.filter(status=Invitation.Status.QUEUED).exists()
    )


def test_redis_down_for_a_minute_costs_no_request_and_loses_no_effect(
    redis_server, smtp_sink, default_program, tmp_path, settings, record_property
):
    if connection.vendor != "postgresql":
        pytest.skip("production-like: gunicorn and a worker share PostgreSQL")
    # Passwords the production settings can check (the suite's fast hasher is not among them).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    receiver = Receiver()
    partner = PartnerFactory(webhook_url=receiver.url)
    referrer = CustomerFactory(first_name="Rita")
    members = [CustomerFactory() for _ in range(3)]
    for member in members:
        EmailAddress.objects.create(
            user=member.user, email=member.user.email, verified=True, primary=True
        )
    worker = CeleryWorker(
        env={"REDIS_URL": redis_server.url, "EMAIL_URL": smtp_sink.url}, beat=True
    ).start()
    site = Site(redis_url=redis_server.url, smtp_url=smtp_sink.url, var_dir=tmp_path)
    load = Load(site, partner=partner, referrer=referrer, members=members).start()
    try:
        time.sleep(5)
        down = time.monotonic()
        redis_server.stop()
        time.sleep(OUTAGE_SECONDS)
        redis_server.start()
        back = time.monotonic()
        # What a supervisor does (systemd, a Procfile platform): a worker that lost the
        # broker with a message in hand may exit (kombu's Redis transport), and is started
        # again; it finds what is still queued.
        if not worker.alive():
            worker.restart()
        time.sleep(5)
        load.stop()
        wait_for(_everything_delivered, timeout=DELIVERED_WITHIN_SECONDS + 60, interval=1)
        delivered_after = time.monotonic() - back
        wait_for(worker.idle, timeout=30)
    finally:
        load.stop()
        site.stop()
        worker.stop()
        receiver.stop()

    during = load.between(down, back)
    record_property("outage_seconds", OUTAGE_SECONDS)
    record_property("delivered_seconds_after_return", round(delivered_after, 1))
    record_property("answered_during_outage", dict(during))
    failed = {key: count for key, count in load.between(0, float("inf")).items() if key[1] >= 500}
    web_log = site.log_path.read_text()
    error_at = max(0, web_log.find("Traceback"))
    assert not failed, f"{failed}\n{web_log[error_at : error_at + 6000]}"
    # The outage was under load: API writes, reads and logins were answered while it lasted.
    assert not any(key[0] == "POST login" and key[1] != 302 for key in during), during
    assert during[("POST conversions", 201)] >= 5, during
    assert during[("GET customers", 200)] >= 5, during
    logins = int(OUTAGE_SECONDS / LOGIN_EVERY_SECONDS / 3)
    assert during[("POST login", 302)] >= logins, during
    assert during[("POST invite", 302)] >= logins, during
    assert during[("GET qr", 200)] >= logins, during
    assert "Redis cache unreachable" in web_log and "reachable again" in web_log
    assert delivered_after <= DELIVERED_WITHIN_SECONDS, delivered_after

    # Every effect once: each webhook event, each email (by its Message-ID), each invitation.
    delivered = [json.loads(body)["id"] for _headers, body in receiver.requests]
    assert len(delivered) == len(set(delivered)) == WebhookEvent.objects.count()
    received = [message["Message-ID"] for message in smtp_sink.messages]
    assert len(received) == len(set(received))
    stored = set(OutboxEmail.objects.values_list("message_id", flat=True))
    assert stored <= set(received)
    invited = list(Invitation.objects.values_list("email", flat=True))
    assert sorted(m["To"] for m in smtp_sink.messages if m["To"] in invited) == sorted(invited)
