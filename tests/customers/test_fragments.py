"""The friends, notices and profile pages are cached per customer: every kind of change shows
at once, two customers never see each other's, and no cached part carries a request's token."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection as database
from django.db.models import F, Value
from django.db.models.functions import JSONObject
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.fragments import friends_version
from customers.models import Connection, Customer, Notice, User
from customers.notices import (
    NOTICE_RETENTION,
    notice_create,
    notice_mark_read,
    notices_insert_selected,
    notices_prune,
)
from customers.privacy import customer_erase
from customers.services import (
    connection_befriend,
    connection_remove,
    connection_request,
    connection_respond,
    customer_language_set,
    customer_profile_update,
)
from tests.factories import PASSWORD, CustomerFactory
from tests.support import login_with_second_factor

pytestmark = pytest.mark.django_db

FRIENDS = reverse("customers:friends")
NOTICES = reverse("customers:notices")
PROFILE = reverse("customers:profile")


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Runs a change as if it committed: the versions it drops are dropped on leaving."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _page(customer: Customer, path: str) -> str:
    client = Client()
    client.force_login(customer.user)
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def _token(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


# Friends


def test_a_request_shows_at_once_to_the_addressee_and_never_touches_the_requester(committed):
    anna, ben = CustomerFactory(), CustomerFactory()
    assert anna.name not in _page(ben, FRIENDS)
    asking = friends_version(anna)
    with committed():
        connection_request(requester=anna, addressee=ben)
    assert f"{anna.name} says you are their friend." in _page(ben, FRIENDS)
    # The requester's next page costs the same whether or not the address was a member's.
    assert friends_version(anna) == asking


def test_a_confirmation_shows_at_once_on_both_lists(committed):
    anna, ben = CustomerFactory(), CustomerFactory()
    with committed():
        request = connection_request(requester=anna, addressee=ben)
    assert ben.name not in _page(anna, FRIENDS)
    assert "Waiting for your answer" in _page(ben, FRIENDS)
    with committed():
        connection_respond(connection=request, by=ben, accept=True)
    assert ben.name in _page(anna, FRIENDS)
    ben_page = _page(ben, FRIENDS)
    assert anna.name in ben_page and "Waiting for your answer" not in ben_page


def test_a_declined_request_leaves_the_addressees_page_at_once(committed):
    anna, ben = CustomerFactory(), CustomerFactory()
    with committed():
        request = connection_request(requester=anna, addressee=ben)
    assert anna.name in _page(ben, FRIENDS)
    with committed():
        connection_respond(connection=request, by=ben, accept=False)
    assert anna.name not in _page(ben, FRIENDS)


def test_a_removed_friend_leaves_both_lists_at_once(committed):
    anna, ben = CustomerFactory(), CustomerFactory()
    with committed():
        friendship = connection_befriend(customer=anna, other=ben)
    assert ben.name in _page(anna, FRIENDS) and anna.name in _page(ben, FRIENDS)
    with committed():
        connection_remove(connection=friendship, by=ben)
    assert ben.name not in _page(anna, FRIENDS) and anna.name not in _page(ben, FRIENDS)


def test_staff_edits_and_deletes_show_at_once_on_both_lists(committed):
    anna, ben = CustomerFactory(), CustomerFactory()
    friendship = Connection.objects.create(requester=anna, addressee=ben, status="confirmed")
    assert "(Friend)" in _page(anna, FRIENDS) and "(Friend)" in _page(ben, FRIENDS)
    staff = Client()
    login_with_second_factor(
        staff, User.objects.create_superuser(email="root@example.com", password=PASSWORD)
    )
    change = reverse("admin:customers_connection_change", args=[friendship.pk])
    with committed():
        edited = staff.post(change, {"relation": "family", "status": "confirmed"})
    assert edited.status_code == 302
    assert "(Family)" in _page(anna, FRIENDS) and "(Family)" in _page(ben, FRIENDS)
    delete = reverse("admin:customers_connection_delete", args=[friendship.pk])
    with committed():
        assert staff.post(delete, {"post": "yes"}).status_code == 302
    assert ben.name not in _page(anna, FRIENDS) and anna.name not in _page(ben, FRIENDS)


def test_an_erased_friend_is_a_former_member_at_once(committed):
    anna, ben = CustomerFactory(), CustomerFactory(first_name="Benedikt")
    with committed():
        connection_befriend(customer=anna, other=ben)
    assert "Benedikt" in _page(anna, FRIENDS)
    with committed():
        customer_erase(customer=ben, source="customer")
    page = _page(anna, FRIENDS)
    assert "Benedikt" not in page and "A former member" in page


def test_two_customers_never_see_each_others_friends(committed):
    anna, ben = CustomerFactory(), CustomerFactory()
    carla, dev = CustomerFactory(), CustomerFactory()
    with committed():
        connection_befriend(customer=anna, other=carla)
        connection_befriend(customer=ben, other=dev)
    for _visit in range(2):
        anna_page, ben_page = _page(anna, FRIENDS), _page(ben, FRIENDS)
        assert carla.name in anna_page and dev.name not in anna_page
        assert dev.name in ben_page and carla.name not in ben_page


def _checking_tokens(customer, path: str) -> tuple[Client, str]:
    """A client that checks CSRF tokens, and the page it gets once another session of the
    customer has had it cached."""
    _page(customer, path)
    client = Client(enforce_csrf_checks=True)
    client.force_login(customer.user)
    return client, client.get(path).content.decode()


def test_a_cached_request_is_answered_with_the_token_of_the_page_it_is_on(committed):
    anna, ben = CustomerFactory(), CustomerFactory()
    with committed():
        request = connection_request(requester=anna, addressee=ben)
    client, page = _checking_tokens(ben, FRIENDS)
    assert f'form="friend-answer" formaction="/me/friends/{request.pk}/respond/"' in page
    with committed():
        response = client.post(
            reverse("customers:friend_respond", args=[request.pk]),
            {"csrfmiddlewaretoken": _token(page), "answer": "accept"},
        )
    assert response.status_code == 302
    assert anna.name in client.get(FRIENDS).content.decode()


def test_a_repeat_visit_reads_the_same_however_long_the_list(committed):
    anna, ben = CustomerFactory(), CustomerFactory()
    with committed():
        for _friend in range(12):
            connection_befriend(customer=ben, other=CustomerFactory())
            connection_request(requester=CustomerFactory(), addressee=ben)

    def repeat_visit(customer):
        client = Client()
        client.force_login(customer.user)
        client.get(FRIENDS)
        with CaptureQueriesContext(database) as queries:
            client.get(FRIENDS)
        return len(queries)

    assert repeat_visit(ben) == repeat_visit(anna)


# Notices


def _notice(customer, key: str, **fields) -> Notice:
    return notice_create(
        customer=customer,
        kind=fields.pop("kind", "data_export_ready"),
        url=reverse("customers:data"),
        source_key=key,
        **fields,
    )


def test_a_new_notice_shows_at_once(committed):
    anna = CustomerFactory()
    assert "No notifications yet" in _page(anna, NOTICES)
    with committed():
        _notice(anna, "first")
    assert "Your data export is ready to download." in _page(anna, NOTICES)


def test_notices_written_for_many_customers_at_once_show_at_once(committed):
    anna, ben = CustomerFactory(), CustomerFactory()
    assert "No notifications yet" in _page(anna, NOTICES)
    with committed():
        notices_insert_selected(
            Customer.objects.filter(pk__in=[anna.pk, ben.pk]),
            customer=F("pk"),
            kind="data_export_ready",
            params=JSONObject(),
            url=reverse("customers:data"),
            source_key=Value("batch"),
        )
    assert "Your data export is ready to download." in _page(anna, NOTICES)


def test_marking_read_shows_at_once(committed):
    anna = CustomerFactory()
    with committed():
        first, _second = _notice(anna, "first"), _notice(anna, "second")
    assert _page(anna, NOTICES).count('class="badge"') == 2
    with committed():
        notice_mark_read(customer=anna, notice_id=first.pk)
    assert _page(anna, NOTICES).count('class="badge"') == 1
    client = Client()
    client.force_login(anna.user)
    with committed():
        client.post(reverse("customers:notices_read_all"))
    page = client.get(NOTICES).content.decode()
    assert 'class="badge"' not in page and "Mark all as read" not in page


def test_pruned_notices_leave_at_once(committed):
    anna = CustomerFactory()
    with committed():
        old = _notice(anna, "old")
    Notice.objects.filter(pk=old.pk).update(created_at=timezone.now() - NOTICE_RETENTION * 2)
    assert "Your data export is ready" in _page(anna, NOTICES)
    with committed():
        notices_prune()
    assert "No notifications yet" in _page(anna, NOTICES)


def test_a_notice_about_an_erased_customer_names_a_former_member_at_once(committed):
    anna, ben = CustomerFactory(), CustomerFactory(first_name="Benedikt")
    with committed():
        _notice(anna, "accepted", kind="connection_accepted", actor=ben)
    assert "Benedikt" in _page(anna, NOTICES)
    with committed():
        customer_erase(customer=ben, source="customer")
    assert "A former member accepted your friends-list request." in _page(anna, NOTICES)


def test_two_customers_never_see_each_others_notices(committed):
    anna, ben = CustomerFactory(), CustomerFactory(first_name="Benedikt")
    with committed():
        _notice(anna, "export")
        _notice(ben, "accepted", kind="connection_accepted", actor=anna)
    for _visit in range(2):
        anna_page, ben_page = _page(anna, NOTICES), _page(ben, NOTICES)
        assert "export is ready" in anna_page and "accepted your" not in anna_page
        assert "accepted your" in ben_page and "export is ready" not in ben_page


def test_each_page_of_notices_is_its_own(committed):
    anna = CustomerFactory()
    now = timezone.now()
    with committed():
        for number in range(25):
            notice = _notice(anna, f"n{number}")
            Notice.objects.filter(pk=notice.pk).update(created_at=now - timedelta(minutes=number))
    client = Client()
    client.force_login(anna.user)
    first = client.get(NOTICES).content.decode()
    second = client.get(NOTICES + "?page=2").content.decode()
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    assert 'name="page" value="2" form="notices-read"' in second


def test_a_cached_notice_is_marked_read_with_the_token_of_the_page_it_is_on(committed):
    anna = CustomerFactory()
    with committed():
        notice = _notice(anna, "first")
    client, page = _checking_tokens(anna, NOTICES)
    assert f'form="notices-read" formaction="/me/notices/{notice.pk}/read/"' in page
    with committed():
        response = client.post(
            reverse("customers:notice_read", args=[notice.pk]),
            {"csrfmiddlewaretoken": _token(page), "page": "1"},
        )
    assert response.status_code == 302
    assert 'class="badge"' not in client.get(NOTICES).content.decode()


# Profile


def test_profile_changes_show_at_once_whoever_makes_them():
    anna = CustomerFactory()
    assert 'value="Annie"' not in _page(anna, PROFILE)
    customer_profile_update(customer=anna, display_name="Annie")
    assert 'value="Annie"' in _page(anna, PROFILE)
    customer_language_set(user=anna.user, language="de")
    assert '<option value="de" selected>' in _page(anna, PROFILE)
    Customer.objects.filter(pk=anna.pk).update(phone="+44 20 7946 0000")  # staff, a script
    assert 'value="+44 20 7946 0000"' in _page(anna, PROFILE)


def test_a_profile_with_errors_is_drawn_live():
    anna = CustomerFactory()
    client = Client()
    client.force_login(anna.user)
    client.get(PROFILE)
    refused = client.post(PROFILE, {"display_name": "Annie", "birthday": "not a date"})
    assert refused.status_code == 200
    page = refused.content.decode()
    assert 'value="Annie"' in page and 'class="error"' in page
    page = client.get(PROFILE).content.decode()
    assert 'value="Annie"' not in page and 'class="error"' not in page


def test_two_customers_never_see_each_others_profile():
    anna, ben = CustomerFactory(), CustomerFactory()
    customer_profile_update(customer=anna, display_name="Annie", phone="111")
    customer_profile_update(customer=ben, display_name="Benno", phone="222")
    for _visit in range(2):
        anna_page, ben_page = _page(anna, PROFILE), _page(ben, PROFILE)
        assert 'value="Annie"' in anna_page and "Benno" not in anna_page
        assert 'value="Benno"' in ben_page and "Annie" not in ben_page
