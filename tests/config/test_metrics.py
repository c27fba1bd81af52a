from __future__ import annotations

from datetime import timedelta

import pytest
import redis
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from config.celery import app as celery_app
from core.models import OutboxEmail
from core.outbox import outbox_email_store
from customers.models import CustomerImport
from loyalty import ledger
from loyalty.models import Transaction
from partners.models import WebhookEvent
from tests.factories import CustomerFactory
from tests.partners.factories import PartnerFactory

pytestmark = pytest.mark.django_db

TOKEN = "metrics-test-token-0123456789"


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def test_metrics_do_not_exist_without_a_token_configured(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer",
        "Bearer wrong-token",
        f"Basic {TOKEN}",
        f"Api-Key {TOKEN}",
        f"Bearer {TOKEN}x",
    ],
)
def test_metrics_answer_401_without_their_token(client, token, authorization):
    extra = {"HTTP_AUTHORIZATION": authorization} if authorization is not None else {}
    response = client.get("/metrics", **extra)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"kindred_" not in response.content


def test_metrics_count_requests_by_route_pattern_status_and_database_time(client, token):
    customer = CustomerFactory()
    before = scrape(client)
    route = "/r/<str:code>/"
    for _ in range(3):
        client.get(f"/r/{customer.referral_code}/")
    client.get("/no-such-page/")
    after = scrape(client)

    def grew(name: str, **labels) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after[key] - before.get(key, 0)

    status = {"method": "GET", "route": route}
    answered = [key for key in after if key[0] == "kindred_http_requests_total"]
    # Counters live as long as the process: other tests may have answered this route too.
    referral = [
        dict(labels)
        for name, labels in answered
        if dict(labels)["route"] == route and grew(name, **dict(labels))
    ]
    assert len(referral) == 1, answered
    assert grew("kindred_http_requests_total", **referral[0]) == 3
    assert grew("kindred_http_request_duration_seconds_count", **referral[0]) == 3
    assert grew("kindred_http_request_duration_seconds_bucket", **referral[0], le="+Inf") == 3
    assert grew("kindred_http_request_database_seconds_count", route=route) == 3
    assert grew("kindred_http_request_database_seconds_sum", route=route) > 0
    assert referral[0]["method"] == status["method"]
    assert grew("kindred_http_requests_total", method="GET", route="<unmatched>", status="404") == 1


def test_metrics_report_queue_depths(client, token):
    before = scrape(client)
    for queue in ("default", "email", "ledger", "webhooks"):
        assert ("kindred_celery_queue_depth", (("queue", queue),)) in before
    celery_app.send_task("tests.metrics.email_nothing", queue="email")
    after = scrape(client)
    assert (
        value(after, "kindred_celery_queue_depth", queue="email")
        == value(before, "kindred_celery_queue_depth", queue="email") + 1
    )
    assert value(after, "kindred_metrics_source_up", source="broker") == 1


def test_metrics_read_queue_depths_from_redis_lists_with_their_priorities(
    client, token, settings, redis_server
):
    settings.CELERY_BROKER_URL = redis_server.url
    broker = redis.Redis.from_url(redis_server.url)
    broker.lpush("email", b"a", b"b")
    broker.lpush("email\x06\x163", b"c")
    broker.lpush("webhooks", b"d")
    samples = scrape(client)
    assert {
        queue: value(samples, "kindred_celery_queue_depth", queue=queue)
        for queue in ("default", "email", "ledger", "webhooks")
    } == {"default": 0, "email": 3, "ledger": 0, "webhooks": 1}
    redis_server.stop()
    down = scrape(client)
    assert value(down, "kindred_metrics_source_up", source="broker") == 0
    assert value(down, "kindred_metrics_source_up", source="database") == 1
    assert not [key for key in down if key[0] == "kindred_celery_queue_depth"]


def test_metrics_report_the_oldest_undelivered_webhook_and_failures(client, token):
    empty = scrape(client)
    assert value(empty, "kindred_webhook_oldest_undelivered_age_seconds") == 0
    partner = PartnerFactory()
    old = WebhookEvent.objects.create(
        partner=partner, type=WebhookEvent.Type.REWARD_SETTLED, data={}, attempts=2
    )
    WebhookEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=2))
    WebhookEvent.objects.create(partner=partner, type=WebhookEvent.Type.REWARD_SETTLED, data={})
    WebhookEvent.objects.create(
        partner=partner,
        type=WebhookEvent.Type.REWARD_SETTLED,
        data={},
        status=WebhookEvent.Status.FAILED,
    )
    samples = scrape(client)
    assert 7200 <= value(samples, "kindred_webhook_oldest_undelivered_age_seconds") < 7300
    assert value(samples, "kindred_webhook_events_retrying") == 1
    assert value(samples, "kindred_webhook_events_failed") == 1


def test_metrics_report_the_oldest_undelivered_email_and_failed_ones(client, token, settings):
    settings.EMAIL_OUTBOX_SEND_AT_ONCE = False  # stored and left waiting, as without a worker
    empty = scrape(client)
    assert value(empty, "kindred_email_oldest_undelivered_age_seconds") == 0
    waiting = outbox_email_store(to="anna@example.com", subject="Hello", body="Hi")
    OutboxEmail.objects.filter(pk=waiting.pk).update(
        created_at=timezone.now() - timedelta(minutes=10)
    )
    failed = outbox_email_store(to="ben@example.com", subject="Hello", body="Hi")
    OutboxEmail.objects.filter(pk=failed.pk).update(
        status=OutboxEmail.Status.FAILED, created_at=timezone.now() - timedelta(days=1)
    )
    samples = scrape(client)
    assert 600 <= value(samples, "kindred_email_oldest_undelivered_age_seconds") < 700
    assert value(samples, "kindred_emails_failed") == 1


def test_metrics_report_how_far_settlement_is_behind(client, token):
    customer = CustomerFactory()
    ledger.points_award(
        customer=customer,
        points=50,
        kind=Transaction.Kind.REFERRAL_REWARD,
        memo="Reward",
        settles_at=timezone.now() + timedelta(days=1),
    )
    assert value(scrape(client), "kindred_ledger_pending_overdue_seconds") == 0
    ledger.points_award(
        customer=customer,
        points=50,
        kind=Transaction.Kind.REFERRAL_REWARD,
        memo="Reward",
        settles_at=timezone.now() - timedelta(minutes=30),
    )
    assert 1800 <= value(scrape(client), "kindred_ledger_pending_overdue_seconds") < 1900


def test_metrics_report_the_progress_of_running_imports(client, token):
    running = CustomerImport.objects.create(
        file_name="customers.csv",
        source="oldshop",
        status=CustomerImport.Status.RUNNING,
        total_rows=1000,
        rows_done=250,
    )
    CustomerImport.objects.create(
        file_name="old.csv", source="oldshop", status=CustomerImport.Status.DONE, total_rows=5
    )
    samples = scrape(client)
    import_id = str(running.public_id)
    assert value(samples, "kindred_customer_import_rows_done", import_id=import_id) == 250
    assert value(samples, "kindred_customer_import_rows", import_id=import_id) == 1000
    assert [labels for name, labels in samples if name == "kindred_customer_import_rows"] == [
        (("import_id", import_id),)
    ]


def test_liveness_touches_neither_database_nor_broker(client, django_assert_num_queries):
    original = celery_app.conf.broker_url
    celery_app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        with django_assert_num_queries(0):
            response = client.get("/health/live/")
    finally:
        celery_app.conf.broker_url = original
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
