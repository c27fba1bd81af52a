"""Real processes and servers for tests (an SMTP sink, a Celery worker, Redis), the partner
API client, and second factors for staff."""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from email import message_from_bytes
from email.message import Message
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP
from allauth.account.internal.flows.login import record_authentication
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.db import connection
from django.test import RequestFactory
from rest_framework.test import APIClient

BASE_DIR = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate: Callable[[], object], *, timeout: float = 30, interval: float = 0.1):
    """Poll until `predicate()` is truthy; return its value or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"Condition not met within {timeout} s")


class SmtpSink:
    """A real SMTP server on loopback that keeps what it receives.

    `refuse_first` makes it answer 451 (try again later) to that many attempts,
    and `refuse_always` to every one, to exercise retries and failures (`refuse_code`
    550 refuses for good); `tried` keeps every message offered, refused or not. `delay`
    keeps a received message waiting that long before the 250 answer, so that a
    sender can be killed (or outlive a broker's timeout) while it waits.
    """

    def __init__(
        self,
        *,
        refuse_first: int = 0,
        refuse_always: bool = False,
        refuse_code: int = 451,
        delay: float = 0,
    ):
        self.messages: list[Message] = []
        self.tried: list[Message] = []
        self.refuse_code = refuse_code
        self.attempts = 0
        self.refuse_first = refuse_first
        self.refuse_always = refuse_always
        self.delay = delay
        self._lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: SMTP, session, envelope) -> str:
        with self._lock:
            self.attempts += 1
            self.tried.append(message_from_bytes(envelope.content))
            if self.refuse_always or self.attempts <= self.refuse_first:
                if self.refuse_code >= 500:
                    return f"{self.refuse_code} Mailbox unavailable"
                return f"{self.refuse_code} Try again later"
            self.messages.append(message_from_bytes(envelope.content))
        await asyncio.sleep(self.delay)
        return "250 Message accepted for delivery"

    def count_to(self, address: str) -> int:
        with self._lock:
            return sum(message["To"] == address for message in self.messages)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SmtpSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


def database_url() -> str:
    """The URL of the database the tests are using (the test database, not the dev one)."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    user = settings.get("USER") or ""
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    host = settings.get("HOST") or "127.0.0.1"
    port = settings.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings['NAME']}"


class CeleryWorker:
    """A real `celery worker` process on the suite's broker and test database (with the
    beat inside it if `beat`)."""

    def __init__(
        self,
        *,
        queues: str = "default,email,ledger,webhooks",
        env: dict | None = None,
        include: str = "",
        concurrency: int = 2,
        beat: bool = False,
    ):
        self.queues = queues
        self.beat = beat
        self.extra_env = env or {}
        self.include = include
        self.concurrency = concurrency
        self.process: subprocess.Popen | None = None
        self.log_path = BASE_DIR / "var" / f"test-worker-{os.getpid()}-{id(self)}.log"

    def start(self, *, purge: bool = True) -> CeleryWorker:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings_test",
            "DATABASE_URL": database_url(),
            "CONN_MAX_AGE": "0",
            **self.extra_env,
        }
        command = [
            sys.executable, "-m", "celery", "-A", "config", "worker",
            "--pool=threads", f"--concurrency={self.concurrency}", f"--queues={self.queues}",
            "--without-mingle", "--without-gossip", "--loglevel=INFO",
            f"--hostname=test-{os.getpid()}-{id(self)}@%h",
        ]  # fmt: skip
        if purge:
            command.append("--purge")
        if self.beat:
            # The production schedule (CELERY_BEAT_SCHEDULE), kept in the test database.
            command.append("--beat")
        if self.include:
            command.append(f"--include={self.include}")
        self.log_path.parent.mkdir(exist_ok=True)
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command, cwd=BASE_DIR, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )
        wait_for(lambda: b"ready." in self.log_path.read_bytes() or self._died(), timeout=60)
        assert not self._died(), self.log()
        return self

    def _died(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def alive(self) -> bool:
        return self.process is not None and not self._died()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: the worker dies mid-task with no chance to clean up."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)

    def idle(self) -> bool:
        """True when every task the worker received (since it started) has finished."""
        log = self.log()
        finished = log.count("] succeeded") + log.count("] retry") + log.count("] raised")
        return log.count("] received") <= finished

    def restart(self) -> CeleryWorker:
        """Start again after `kill`, keeping what is still queued (as a supervisor would)."""
        self._log.close()
        return self.start(purge=False)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()


class RedisServer:
    """A private redis-server on a free loopback port, to stop and start at will.

    Never the machine's shared Redis: others use it. Nothing is persisted.
    """

    def __init__(self):
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(self._answers, timeout=20)
        return self

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


_idempotency_keys = itertools.count()


class PartnerClient(APIClient):
    """An API client that authenticates as one partner and sends a fresh Idempotency-Key
    with every POST unless the test gives its own."""

    def __init__(self, partner, **defaults):
        super().__init__(**defaults)
        self.partner = partner
        self.credentials(HTTP_AUTHORIZATION=f"Api-Key {partner.key}")

    def post(self, path, data=None, format="json", idempotency_key=None, **extra):
        key = idempotency_key
        if key is None:
            key = f"test-key-{next(_idempotency_keys)}"
        if key:
            extra["HTTP_IDEMPOTENCY_KEY"] = key
        return super().post(path, data, format=format, **extra)


def second_factor_add(user) -> str:
    """Give `user` an authenticator app; returns its secret, to compute codes with."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


# A code read from the app this close to the end of its period may reach the server in
# the next one (the server accepts the current period only); a person waits for a new code.
TOTP_MARGIN_SECONDS = 10


def totp_code(secret: str, *, at: float | None = None) -> str:
    """The code an authenticator app shows for `secret` at `at` (now by default, waiting
    for the next period when this one is about to end)."""
    if at is None:
        left = mfa_settings.TOTP_PERIOD - time.time() % mfa_settings.TOTP_PERIOD
        if left < TOTP_MARGIN_SECONDS:
            time.sleep(left)
    counter = int(time.time() if at is None else at) // mfa_settings.TOTP_PERIOD
    return format_hotp_value(hotp_value(secret, counter))


def login_with_second_factor(client, user) -> None:
    """`force_login`, then what allauth records after a correct code (its own
    `record_authentication`), so the admin (config/staff_mfa.py) opens; the user gets an
    authenticator app if they have none."""
    authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if authenticator is None:
        second_factor_add(user)
        authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    client.force_login(user)
    request = RequestFactory().get("/")
    request.session = client.session
    record_authentication(request, user, "mfa", type="totp", id=authenticator.pk)
    request.session.save()
