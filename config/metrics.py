"""`/metrics`: what an operator watches, in Prometheus' text format, behind a bearer token.

Two kinds of series. Requests (count, latency and database time by route pattern and
status) are counted in the process that served them; under gunicorn each worker writes
them to files in `PROMETHEUS_MULTIPROC_DIR` (config/gunicorn.py sets it) and a scrape adds
them up (prometheus_client's multiprocess mode). Everything else (queue depths, the
oldest undelivered webhook, overdue pending rewards, imports) is read from the database
and the broker at scrape time, so every process answers the same and nothing is kept.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import redis
from django.conf import settings
from django.db.models import Min
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from core.models import OutboxEmail
from core.outbox import outbox_oldest_pending_age
from customers.models import CustomerImport
from loyalty.models import Transaction
from partners.models import WebhookEvent

# Queues by name (CELERY_TASK_ROUTES and the default queue).
CELERY_QUEUES = ("default", "email", "ledger", "webhooks")
# kombu's Redis transport keeps a queue's prioritised messages in lists named
# "<queue><sep><priority>" beside the plain one.
_REDIS_PRIORITY_SEP = "\x06\x16"
_REDIS_PRIORITY_STEPS = (3, 6, 9)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

http_requests = Counter(
    "kindred_http_requests",
    "HTTP requests answered, by route pattern and status.",
    ["method", "route", "status"],
)
http_request_duration = Histogram(
    "kindred_http_request_duration_seconds",
    "Time from the request reaching Django to its response, by route pattern and status.",
    ["method", "route", "status"],
    buckets=LATENCY_BUCKETS,
)
http_request_database = Histogram(
    "kindred_http_request_database_seconds",
    "Time a request spent waiting for the database, by route pattern.",
    ["route"],
    buckets=LATENCY_BUCKETS,
)


def request_observe(
    *, method: str, route: str, status: int, seconds: float, database_seconds: float
) -> None:
    """Count one answered request (called by the request middleware)."""
    http_requests.labels(method, route, str(status)).inc()
    http_request_duration.labels(method, route, str(status)).observe(seconds)
    http_request_database.labels(route).observe(database_seconds)


def queue_depths() -> dict[str, int]:
    """Messages waiting in each Celery queue, read from the broker itself."""
    broker_url = settings.CELERY_BROKER_URL
    scheme = urlsplit(broker_url).scheme
    if scheme in ("redis", "rediss"):
        client = redis.Redis.from_url(broker_url, socket_connect_timeout=2, socket_timeout=2)
        with client.pipeline(transaction=False) as pipe:
            for queue in CELERY_QUEUES:
                pipe.llen(queue)
                for step in _REDIS_PRIORITY_STEPS:
                    pipe.llen(f"{queue}{_REDIS_PRIORITY_SEP}{step}")
            lengths = pipe.execute()
        per_queue = 1 + len(_REDIS_PRIORITY_STEPS)
        return {
            queue: sum(lengths[index * per_queue : (index + 1) * per_queue])
            for index, queue in enumerate(CELERY_QUEUES)
        }
    if scheme == "filesystem":
        # kombu's filesystem transport: one file per message, named "<time>_<id>.<queue>.msg".
        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_out"])
        names = [entry.name for entry in os.scandir(folder)]
        return {
            queue: sum(name.endswith(f".{queue}.msg") for name in names) for queue in CELERY_QUEUES
        }
    return {}


class OperationsCollector(Collector):
    """Series read at scrape time from the broker and the database."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = timezone.now()
        failures = GaugeMetricFamily(
            "kindred_metrics_source_up",
            "1 if the source could be read for this scrape, 0 if not.",
            labels=["source"],
        )
        try:
            depths = queue_depths()
        except (redis.RedisError, OSError):
            failures.add_metric(["broker"], 0)
        else:
            failures.add_metric(["broker"], 1)
            depth = GaugeMetricFamily(
                "kindred_celery_queue_depth",
                "Messages waiting in a Celery queue.",
                labels=["queue"],
            )
            for queue, count in depths.items():
                depth.add_metric([queue], count)
            yield depth
        try:
            yield from self._database_series(now)
        except Exception:  # a scrape answers with what it has, whatever the database says
            failures.add_metric(["database"], 0)
        else:
            failures.add_metric(["database"], 1)
        yield failures

    def _database_series(self, now) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily(
            "kindred_email_oldest_undelivered_age_seconds",
            "Age of the oldest email in the outbox still waiting to be sent (0 when none "
            "waits; failed ones wait for staff and are not counted).",
            value=outbox_oldest_pending_age(now=now),
        )
        yield GaugeMetricFamily(
            "kindred_emails_failed",
            "Emails the outbox gave up on (staff may send them again from the admin).",
            value=OutboxEmail.objects.filter(status=OutboxEmail.Status.FAILED).count(),
        )
        pending_webhooks = WebhookEvent.objects.filter(status=WebhookEvent.Status.PENDING)
        oldest_webhook = pending_webhooks.aggregate(oldest=Min("created_at"))["oldest"]
        yield GaugeMetricFamily(
            "kindred_webhook_oldest_undelivered_age_seconds",
            "Age of the oldest webhook event not yet delivered (0 when none waits).",
            value=(now - oldest_webhook).total_seconds() if oldest_webhook else 0,
        )
        yield GaugeMetricFamily(
            "kindred_webhook_events_retrying",
            "Webhook events waiting for delivery after at least one failed attempt.",
            value=pending_webhooks.filter(attempts__gt=0).count(),
        )
        yield GaugeMetricFamily(
            "kindred_webhook_events_failed",
            "Webhook events given up after their retry window (staff may resend them).",
            value=WebhookEvent.objects.filter(status=WebhookEvent.Status.FAILED).count(),
        )
        overdue = Transaction.objects.filter(
            status=Transaction.Status.PENDING, settles_at__lt=now
        ).aggregate(oldest=Min("settles_at"))["oldest"]
        yield GaugeMetricFamily(
            "kindred_ledger_pending_overdue_seconds",
            "How long past its settlement date the oldest pending transaction (a reward or "
            "points on hold) is; 0 when settlement is keeping up.",
            value=(now - overdue).total_seconds() if overdue else 0,
        )
        rows_done = GaugeMetricFamily(
            "kindred_customer_import_rows_done",
            "Rows a queued or running customer import has written.",
            labels=["import_id"],
        )
        rows_total = GaugeMetricFamily(
            "kindred_customer_import_rows",
            "Rows in the file of a queued or running customer import.",
            labels=["import_id"],
        )
        idle = GaugeMetricFamily(
            "kindred_customer_import_idle_seconds",
            "Seconds since a queued or running customer import last moved.",
            labels=["import_id"],
        )
        for public_id, done, total, updated_at in CustomerImport.objects.filter(
            status__in=(CustomerImport.Status.QUEUED, CustomerImport.Status.RUNNING)
        ).values_list("public_id", "rows_done", "total_rows", "updated_at"):
            rows_done.add_metric([str(public_id)], done)
            rows_total.add_metric([str(public_id)], total)
            idle.add_metric([str(public_id)], (now - updated_at).total_seconds())
        yield rows_done
        yield rows_total
        yield idle


def _authorised(request: HttpRequest, token: str) -> bool:
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(presented.strip(), token)


@require_GET
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus' scrape. Without METRICS_TOKEN the page does not exist (404); with it, a
    request without that bearer token gets 401."""
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404
    if not _authorised(request, token):
        response = HttpResponse("A bearer token is required.\n", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        requests_registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(requests_registry)
    else:
        requests_registry = REGISTRY
    operations_registry = CollectorRegistry()
    operations_registry.register(OperationsCollector())
    body = generate_latest(requests_registry) + generate_latest(operations_registry)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
