"""The notification centre: the bell's count, the list, marking read, data rights, pruning."""

from __future__ import annotations

import json
import zipfile
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from customers.models import Connection, Notice
from customers.notices import (
    NOTICE_RETENTION,
    notice_create,
    notices_prune,
    unread_notice_count,
)
from customers.privacy import customer_erase, data_export_build, data_export_request
from customers.services import connection_request, connection_respond
from customers.tasks import notices_prune_old
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _notice(customer, n: int = 0, **fields) -> Notice:
    return notice_create(
        customer=customer,
        kind=fields.pop("kind", "data_export_ready"),
        url=fields.pop("url", reverse("customers:data")),
        source_key=fields.pop("source_key", f"test:{n}"),
        **fields,
    )


def _many(customer, count: int, *, read: bool = False, prefix: str = "bulk") -> None:
    now = timezone.now()
    Notice.objects.bulk_create(
        Notice(
            customer=customer,
            kind="data_export_ready",
            url="/me/data/",
            source_key=f"{prefix}:{n}",
            read_at=now if read else None,
        )
        for n in range(count)
    )


def _page_queries(client, path: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return [query["sql"] for query in queries.captured_queries]


# Creating


def test_the_same_event_creates_one_notice_however_often_it_is_announced():
    anna = CustomerFactory()
    assert _notice(anna, source_key="export:1") is not None
    assert _notice(anna, source_key="export:1") is None
    assert anna.notices.count() == 1


def test_a_notice_links_only_to_a_page_of_the_portal():
    anna = CustomerFactory()
    for url in ["https://evil.example/", "//evil.example/", "javascript:alert(1)"]:
        with pytest.raises(ValueError):
            _notice(anna, url=url)


def test_the_text_is_written_when_shown_not_stored():
    anna, ben = CustomerFactory(), CustomerFactory(first_name="Ben", display_name="")
    connection = connection_request(requester=anna, addressee=ben)
    connection_respond(connection=connection, by=ben, accept=True)
    notice = anna.notices.get()
    stored = json.dumps(notice.params) + notice.kind + notice.source_key
    assert "Ben" not in stored and "accepted your" not in stored
    assert notice.text.startswith(ben.name)
    with translation.override("en"):
        assert "accepted your friends-list request" in notice.text


def test_a_friend_accepting_your_request_tells_you_once(client):
    anna, ben = CustomerFactory(), CustomerFactory()
    connection = connection_request(requester=anna, addressee=ben)
    client.force_login(ben.user)
    client.post(reverse("customers:friend_respond", args=[connection.pk]), {"answer": "accept"})
    client.post(reverse("customers:friend_respond", args=[connection.pk]), {"answer": "accept"})
    notice = anna.notices.get()
    assert (notice.kind, notice.actor, notice.url) == (
        "connection_accepted",
        ben,
        reverse("customers:friends"),
    )
    assert not ben.notices.exists()


def test_a_declined_request_tells_nobody():
    anna, ben = CustomerFactory(), CustomerFactory()
    connection = connection_request(requester=anna, addressee=ben)
    connection_respond(connection=connection, by=ben, accept=False)
    assert not Notice.objects.exists()
    assert Connection.objects.get().status == Connection.Status.DECLINED


def test_a_ready_data_export_is_announced_once_even_if_built_twice():
    anna = CustomerFactory()
    export = data_export_request(customer=anna, source="customer")
    assert data_export_build(export_id=export.pk)
    assert not data_export_build(export_id=export.pk)
    notice = anna.notices.get()
    assert (notice.kind, notice.url) == ("data_export_ready", reverse("customers:data"))
    assert notice.text == "Your data export is ready to download."


# The bell


def test_the_bell_shows_the_unread_count_on_every_page(client):
    anna = CustomerFactory()
    _many(anna, 3)
    _many(CustomerFactory(), 2)
    client.force_login(anna.user)
    for path in [reverse("dashboard"), reverse("customers:profile"), reverse("home")]:
        page = client.get(path).content.decode()
        assert "Notifications: 3 unread" in page
        assert reverse("customers:notices") in page


def test_the_bell_count_is_one_query_whatever_the_history(client, django_assert_num_queries):
    anna = CustomerFactory()
    _notice(anna)
    client.force_login(anna.user)
    path = reverse("customers:profile")
    client.get(path)  # warm what is cached per process
    with_one = _page_queries(client, path)
    counts = [sql for sql in with_one if "customers_notice" in sql]
    assert len(counts) == 1 and "COUNT(" in counts[0].upper()
    _many(anna, 250)
    _many(anna, 250, read=True, prefix="read")
    with django_assert_num_queries(len(with_one)):
        page = client.get(path).content.decode()
    assert "Notifications: 251 unread" in page


def test_the_unread_count_is_an_index_seek():
    if connection.vendor != "sqlite":
        pytest.skip("the plan is read from SQLite's EXPLAIN QUERY PLAN")
    anna = CustomerFactory()
    _many(anna, 50, read=True)
    with CaptureQueriesContext(connection) as queries:
        assert unread_notice_count(user=anna.user) == 0
    (sql,) = [query["sql"] for query in queries.captured_queries]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        plan = " ".join(str(row) for row in cursor.fetchall())
    # A seek to the customer's unread entries, counted in the index without reading rows.
    assert "COVERING INDEX notice_unread (customer_id=? AND read_at=?)" in plan
    assert "SCAN" not in plan


def test_staff_without_a_customer_profile_see_a_bell_with_nothing(admin_client):
    page = admin_client.get(reverse("reviews:subject_list")).content.decode()
    assert "Notifications" in page and "unread" not in page


def test_visitors_see_no_bell(client):
    assert "Notifications" not in client.get(reverse("home")).content.decode()


# The list


def test_the_list_is_empty_at_first_and_says_what_will_come(client):
    client.force_login(CustomerFactory().user)
    page = client.get(reverse("customers:notices")).content.decode()
    assert "No notifications yet" in page
    assert "Mark all as read" not in page


def test_the_list_shows_newest_first_with_links_and_pages(client):
    anna = CustomerFactory()
    _many(anna, 25)
    _notice(anna, source_key="newest")
    client.force_login(anna.user)
    first = client.get(reverse("customers:notices"))
    assert len(first.context["page"].object_list) == 20
    assert first.context["page"].object_list[0].source_key == "newest"
    assert 'href="/me/data/"' in first.content.decode()
    assert "Page 1 of 2" in first.content.decode()
    second = client.get(reverse("customers:notices") + "?page=2")
    assert len(second.context["page"].object_list) == 6


def test_marking_one_read_lowers_the_count(client):
    anna = CustomerFactory()
    first, second = _notice(anna, 1), _notice(anna, 2)
    client.force_login(anna.user)
    response = client.post(reverse("customers:notice_read", args=[first.pk]), {"page": "1"})
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:notices") + "?page=1"
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.read_at is not None and second.read_at is None
    assert unread_notice_count(user=anna.user) == 1


def test_marking_all_read_clears_the_bell(client):
    anna, ben = CustomerFactory(), CustomerFactory()
    _many(anna, 5)
    _many(ben, 2)
    client.force_login(anna.user)
    response = client.post(reverse("customers:notices_read_all"), follow=True)
    assert "All notifications are marked as read." in response.content.decode()
    assert unread_notice_count(user=anna.user) == 0
    assert unread_notice_count(user=ben.user) == 2


def test_another_customer_cannot_mark_your_notice_read(client):
    anna, ben = CustomerFactory(), CustomerFactory()
    notice = _notice(anna)
    client.force_login(ben.user)
    assert client.post(reverse("customers:notice_read", args=[notice.pk])).status_code == 404
    notice.refresh_from_db()
    assert notice.read_at is None


def test_marking_read_is_a_post_only(client):
    anna = CustomerFactory()
    notice = _notice(anna)
    client.force_login(anna.user)
    assert client.get(reverse("customers:notice_read", args=[notice.pk])).status_code == 405
    assert client.get(reverse("customers:notices_read_all")).status_code == 405


# Data rights and retention


def test_the_data_export_includes_the_notices():
    anna, ben = CustomerFactory(), CustomerFactory()
    connection = connection_request(requester=anna, addressee=ben)
    connection_respond(connection=connection, by=ben, accept=True)
    export = data_export_request(customer=anna, source="customer")
    data_export_build(export_id=export.pk)
    export.refresh_from_db()
    with export.archive.open("rb") as handle, zipfile.ZipFile(handle) as archive:
        document = json.loads(archive.read("data.json"))
    (notice,) = document["notices"]
    assert notice["kind"] == "connection_accepted"
    assert "accepted your friends-list request" in notice["text"]


def test_erasure_removes_the_customers_notices_and_names_them_a_former_member_elsewhere():
    anna, ben = CustomerFactory(), CustomerFactory()
    connection = connection_request(requester=anna, addressee=ben)
    connection_respond(connection=connection, by=ben, accept=True)
    _notice(ben)
    customer_erase(customer=ben, source="customer")
    ben.refresh_from_db()
    assert not ben.notices.exists()
    assert anna.notices.get().text.startswith("A former member")
    assert _notice(ben, source_key="after") is None


def test_notices_older_than_the_retention_are_pruned_read_or_not():
    anna = CustomerFactory()
    now = timezone.now()
    old = _notice(anna, 1)
    read_old = _notice(anna, 2)
    kept = _notice(anna, 3)
    Notice.objects.filter(pk=old.pk).update(created_at=now - NOTICE_RETENTION - timedelta(hours=1))
    Notice.objects.filter(pk=read_old.pk).update(
        created_at=now - NOTICE_RETENTION - timedelta(days=30), read_at=now
    )
    Notice.objects.filter(pk=kept.pk).update(created_at=now - NOTICE_RETENTION + timedelta(hours=1))
    assert notices_prune(now=now) == 2
    assert list(anna.notices.all()) == [kept]
    assert notices_prune_old() == 0


def test_beat_prunes_notices_daily(settings):
    entry = next(
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "customers.tasks.notices_prune_old"
    )
    assert entry["schedule"].hour == {4}


def test_a_kind_nobody_registered_reads_as_a_plain_line_not_an_error(client):
    anna = CustomerFactory()
    _notice(anna, kind="retired_kind", source_key="old")
    _notice(anna, kind="reward_settled", params={"unexpected": 1}, source_key="odd")
    client.force_login(anna.user)
    response = client.get(reverse("customers:notices"))
    assert response.status_code == 200
    texts = [notice.text for notice in response.context["page"].object_list]
    assert texts == ["Something happened on your account."] * 2
