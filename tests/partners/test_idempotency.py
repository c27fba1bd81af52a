import datetime as dt
import threading

import pytest
from django.utils import timezone

from customers.models import Customer
from partners import services
from partners.idempotency import RETENTION, STALE_CLAIM, idempotency_purge
from partners.models import IdempotencyRecord
from partners.tasks import idempotency_purge_expired
from tests.loyalty.helpers import run_in_threads
from tests.partners.factories import PartnerFactory
from tests.support import PartnerClient

URL = "/api/v1/customers/"
BODY = {"external_id": "shop-9", "email": "iris@example.com", "first_name": "Iris"}


@pytest.mark.django_db
def test_same_key_and_body_replays_the_first_response_and_runs_once(api):
    first = api.post(URL, BODY, idempotency_key="k-1")
    again = api.post(URL, BODY, idempotency_key="k-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Customer.objects.count() == 1


@pytest.mark.django_db
def test_error_responses_are_replayed_too(api):
    first = api.post(URL, {"email": "not-an-email"}, idempotency_key="k-bad")
    again = api.post(URL, {"email": "not-an-email"}, idempotency_key="k-bad")
    assert first.status_code == again.status_code == 400
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"


@pytest.mark.django_db
def test_same_key_with_another_body_or_path_is_422_and_changes_nothing(api, linked_customer):
    api.post(URL, BODY, idempotency_key="k-2")
    other_body = api.post(URL, {**BODY, "external_id": "shop-10"}, idempotency_key="k-2")
    assert other_body.status_code == 422
    assert other_body.json()["code"] == "idempotency_key_reused"
    points_url = f"{URL}{linked_customer['id']}/points/"
    other_path = api.post(points_url, {"points": 5, "reason": "Hi"}, idempotency_key="k-2")
    assert other_path.status_code == 422
    assert api.get(f"{URL}{linked_customer['id']}/").json()["points"]["balance"] == 0
    assert Customer.objects.count() == 2


@pytest.mark.django_db
def test_the_same_json_serialised_again_replays(api):
    """A client library that serialises its body again on retry (other key order, other
    spacing, escaped characters) sends the same request."""
    first = api.post(
        URL,
        '{"external_id": "shop-9", "email": "iris@example.com", "first_name": "Iris"}',
        format=None,
        content_type="application/json",
        idempotency_key="k-json",
    )
    again = api.post(
        URL,
        '{\n  "first_name":"\\u0049ris",\n  "email":"iris@example.com","external_id":"shop-9"}',
        format=None,
        content_type="application/json",
        idempotency_key="k-json",
    )
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert Customer.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "changed",
    [
        '{"external_id": "shop-9", "email": "iris@example.com", "first_name": "Iris "}',
        '{"external_id": "shop-9", "email": "iris@example.com"}',
        '{"external_id": "shop-9", "email": "iris@example.com", "first_name": ["Iris"]}',
        '[{"external_id": "shop-9", "email": "iris@example.com", "first_name": "Iris"}]',
    ],
)
def test_another_value_under_the_same_key_is_still_refused(api, changed):
    body = '{"external_id": "shop-9", "email": "iris@example.com", "first_name": "Iris"}'
    api.post(URL, body, format=None, content_type="application/json", idempotency_key="k-json")
    response = api.post(
        URL, changed, format=None, content_type="application/json", idempotency_key="k-json"
    )
    assert response.status_code == 422 and response.json()["code"] == "idempotency_key_reused"
    assert Customer.objects.count() == 1


@pytest.mark.django_db
def test_keys_are_scoped_per_partner(api, other_api):
    assert api.post(URL, BODY, idempotency_key="shared").status_code == 201
    response = other_api.post(URL, BODY, idempotency_key="shared")
    assert response.status_code == 200
    assert "Idempotent-Replayed" not in response


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there", "ünïcode"])
def test_missing_or_invalid_key_is_400_and_changes_nothing(api, key):
    response = api.post(URL, BODY, idempotency_key=key)
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_required"
    assert not Customer.objects.exists() and not IdempotencyRecord.objects.exists()


@pytest.mark.django_db
def test_a_key_of_255_printable_characters_is_accepted(api):
    assert api.post(URL, BODY, idempotency_key="~" * 255).status_code == 201


@pytest.mark.django_db
def test_a_failed_attempt_releases_the_key(api, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("database fell over")

    monkeypatch.setattr(services, "partner_customer_upsert", broken)
    api.raise_request_exception = False
    assert api.post(URL, BODY, idempotency_key="k-3").status_code == 500
    assert not IdempotencyRecord.objects.exists()
    monkeypatch.undo()
    response = api.post(URL, BODY, idempotency_key="k-3")
    assert response.status_code == 201 and "Idempotent-Replayed" not in response


@pytest.mark.django_db
def test_a_claim_left_by_a_dead_process_is_taken_over_when_stale(api):
    assert api.post(URL, BODY, idempotency_key="k-4").status_code == 201
    # As if the process had died after the work and before storing the response.
    left = IdempotencyRecord.objects.filter(key="k-4")
    left.update(status=IdempotencyRecord.Status.IN_PROGRESS, response_status=None)
    assert api.post(URL, BODY, idempotency_key="k-4").json()["code"] == "request_in_progress"
    left.update(claimed_at=timezone.now() - STALE_CLAIM - dt.timedelta(seconds=1))
    taken_over = api.post(URL, BODY, idempotency_key="k-4")
    assert taken_over.status_code == 200 and "Idempotent-Replayed" not in taken_over
    assert Customer.objects.count() == 1
    assert left.get().status == IdempotencyRecord.Status.COMPLETED


@pytest.mark.django_db
def test_records_are_kept_a_day_then_purged(api):
    api.post(URL, BODY, idempotency_key="old")
    api.post(URL, {**BODY, "external_id": "x2"}, idempotency_key="new")
    IdempotencyRecord.objects.filter(key="old").update(
        created_at=timezone.now() - RETENTION - dt.timedelta(minutes=1)
    )
    IdempotencyRecord.objects.filter(key="new").update(
        created_at=timezone.now() - dt.timedelta(hours=24)
    )
    assert idempotency_purge_expired() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
    assert idempotency_purge() == 0


@pytest.mark.django_db(transaction=True)
def test_a_request_still_running_answers_409_then_the_result_replays(monkeypatch):
    partner = PartnerFactory()
    started, release = threading.Event(), threading.Event()
    upsert = services.partner_customer_upsert

    def slow_upsert(**kwargs):
        started.set()
        assert release.wait(30)
        return upsert(**kwargs)

    monkeypatch.setattr(services, "partner_customer_upsert", slow_upsert)
    first = {}

    def run_first(_index):
        first["response"] = PartnerClient(partner).post(URL, BODY, idempotency_key="slow")

    thread = threading.Thread(target=run_in_threads, args=(1, run_first))
    thread.start()
    assert started.wait(30)
    second = PartnerClient(partner).post(URL, BODY, idempotency_key="slow")
    assert second.status_code == 409
    assert second.json()["code"] == "request_in_progress"
    release.set()
    thread.join(30)
    assert first["response"].status_code == 201
    replay = PartnerClient(partner).post(URL, BODY, idempotency_key="slow")
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    assert replay.json() == first["response"].json()
    assert Customer.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_uses_of_one_key_run_the_request_once():
    partner = PartnerFactory()
    body = {"external_id": "race", "email": "race@example.com"}

    def post(_index):
        response = PartnerClient(partner).post("/api/v1/customers/", body, idempotency_key="race")
        return (
            response.status_code,
            response.json().get("code"),
            response.get("Idempotent-Replayed"),
        )

    results = run_in_threads(8, post)
    assert not [r for r in results if isinstance(r, Exception)], results
    fresh = [r for r in results if r[0] == 201 and r[2] is None]
    assert len(fresh) == 1, results
    assert all(r[0] == 201 or r[1] == "request_in_progress" for r in results), results
    assert Customer.objects.count() == 1
    assert IdempotencyRecord.objects.get().status == IdempotencyRecord.Status.COMPLETED


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_of_one_email_under_different_keys_make_one_customer():
    partners = [PartnerFactory() for _ in range(4)]

    def post(index):
        return (
            PartnerClient(partners[index])
            .post(URL, {"external_id": f"p{index}", "email": "same@example.com"})
            .status_code
        )

    results = run_in_threads(4, post)
    assert sorted(results) == [200, 200, 200, 201], results
    assert Customer.objects.count() == 1
