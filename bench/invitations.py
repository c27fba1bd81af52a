"""Invitation fan-out: 2,000 invitations delivered by 2 worker processes to an SMTP sink.

Beside it, in the same run and on the same Redis broker and queue, the rate at
which the same 2 workers drain 2,000 no-op tasks (the ceiling). Both phases
fill the `email` queue first, then start the workers on an idle queue and,
once both answer a ping, tell both at once to consume `email`: the time runs
from that order to "queue and unacked set empty", so worker start-up is left
out of both and neither worker gets a head start (one that came up first used
to drain part of the queue before the clock started, a quarter of the no-op
tasks in some runs). Goal: invitations at >= 30% of the no-op rate.

Needs PostgreSQL (a scratch database, see common.py) and REDIS_URL (its
`email` queue is purged before each phase).

    REDIS_URL=redis://127.0.0.1:6379/3 .venv/bin/python bench/invitations.py \
        [--invitations 2000] [--pool threads] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import time

from common import BASE_DIR, report, scratch_database

QUEUE = "email"
IDLE_QUEUE = "bench-idle"
SENDERS_BATCH = 50


class CountingSink:
    """An SMTP server on loopback that only counts messages: it stands in for a remote
    server, so it should spend as little as possible of the CPU the workers share."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        from tests.support import free_port

        self.delivered = 0
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope) -> str:
        self.delivered += 1
        return "250 Message accepted for delivery"

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


def _worker_env(smtp_url: str) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "EMAIL_URL": smtp_url,
        "PYTHONPATH": os.pathsep.join([str(BASE_DIR), str(BASE_DIR / "bench")]),
    }


def start_workers(*, count: int, pool: str, concurrency: int, smtp_url: str) -> list:
    return [
        subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "config", "worker",
                f"--pool={pool}", f"--concurrency={concurrency}", f"--queues={IDLE_QUEUE}",
                "--include=noop_tasks", "--without-mingle", "--without-gossip",
                "--without-heartbeat", "--loglevel=WARNING", "-O", "fair",
                f"--hostname=bench{index}-{os.getpid()}@%h",
            ],
            cwd=BASE_DIR,
            env=_worker_env(smtp_url),
            stdout=subprocess.DEVNULL,
        )
        for index in range(count)
    ]  # fmt: skip


def stop_workers(workers: list) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.wait(60)


def wait_until_answering(app, count: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(app.control.ping(timeout=0.2)) >= count:
            return
    raise RuntimeError("The workers did not come up.")


def wait_until_drained(redis, timeout: float = 900) -> None:
    """Nothing waiting in the queue and nothing delivered but unacknowledged (acks_late)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if redis.llen(QUEUE) == 0 and redis.hlen("unacked") == 0:
            return
        time.sleep(0.02)
    raise RuntimeError("The queue did not drain.")


def purge(app) -> None:
    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge(QUEUE)


def timed_drain(app, redis, args, smtp_url: str) -> float:
    """Start the workers on a full queue; seconds from both answering to the queue empty."""
    workers = start_workers(
        count=args.workers, pool=args.pool, concurrency=args.concurrency, smtp_url=smtp_url
    )
    try:
        wait_until_answering(app, args.workers)
        start = time.perf_counter()
        replies = app.control.add_consumer(QUEUE, reply=True, limit=args.workers, timeout=5)
        if len(replies) < args.workers:
            raise RuntimeError(f"Only {len(replies)} workers consume the queue.")
        wait_until_drained(redis)
        return time.perf_counter() - start
    finally:
        stop_workers(workers)


def make_senders(count: int) -> list:
    from customers.services import user_create

    return [
        user_create(email=f"sender{i}@example.com", first_name=f"Sender{i}") for i in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invitations", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pool", default="threads")
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL"):
        sys.exit("Set REDIS_URL: the goal is stated for the Redis broker.")

    with scratch_database("invitations"):
        import redis as redis_client
        from noop_tasks import email_noop

        from config.celery import app
        from referrals.invitations import invitations_create
        from referrals.models import Invitation

        redis = redis_client.Redis.from_url(os.environ["REDIS_URL"])
        # The sink shares the machine with the workers: its per-command log is not measured.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        sink = CountingSink()
        sink.controller.start()
        try:
            purge(app)
            for index in range(args.invitations):
                email_noop.delay(index)
            noop_seconds = timed_drain(app, redis, args, sink.url)

            purge(app)
            senders = make_senders(-(-args.invitations // SENDERS_BATCH))
            created = time.perf_counter()
            for number, sender in enumerate(senders):
                first = number * SENDERS_BATCH
                batch = range(first, min(first + SENDERS_BATCH, args.invitations))
                invitations_create(
                    sender=sender, addresses=" ".join(f"friend{i}@example.org" for i in batch)
                )
            create_seconds = time.perf_counter() - created
            send_seconds = timed_drain(app, redis, args, sink.url)
            sent = Invitation.objects.filter(status=Invitation.Status.SENT).count()
            delivered = sink.delivered
        finally:
            sink.controller.stop()

    assert sent == delivered == args.invitations, (sent, delivered)
    noop_rate = args.invitations / noop_seconds
    send_rate = args.invitations / send_seconds
    ratio = send_rate / noop_rate
    figures = {
        "invitations": args.invitations,
        "workers": args.workers,
        "pool": args.pool,
        "concurrency": args.concurrency,
        "invitations_per_second": round(send_rate, 1),
        "noop_tasks_per_second": round(noop_rate, 1),
        "ratio_to_noop": round(ratio, 3),
        "goal_ratio": 0.30,
        "create_per_second": round(args.invitations / create_seconds, 1),
    }
    report(
        "Invitation fan-out on Redis",
        [
            ("invitations delivered", f"{delivered:,} by {args.workers} workers"),
            ("pool", f"{args.pool} x {args.concurrency}"),
            ("invitations sent", f"{send_rate:,.1f} /s ({send_seconds:.2f} s)"),
            ("no-op tasks (ceiling)", f"{noop_rate:,.1f} /s ({noop_seconds:.2f} s)"),
            ("ratio (goal >= 0.30)", f"{ratio:.3f}"),
            ("invitations created", f"{figures['create_per_second']:,.1f} /s"),
        ],
        figures,
    )


if __name__ == "__main__":
    main()
