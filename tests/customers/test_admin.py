"""The customer and user admin as the staff groups use it: what it lets them change, and on
whom."""

from __future__ import annotations

import datetime

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from customers.models import Connection, Customer, StaffAccess, User
from customers.services import staff_second_factor_reset
from tests.factories import PASSWORD, CustomerFactory
from tests.support import login_with_second_factor, second_factor_add

pytestmark = pytest.mark.django_db


@pytest.fixture
def support(django_user_model):
    member = django_user_model.objects.create_user(
        email="support@example.com", password=PASSWORD, is_staff=True
    )
    member.groups.add(Group.objects.get(name="Support"))
    return member


def _form_data(response) -> dict:
    """What the browser would send back from an admin change form, unchanged."""
    form = response.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is True:
            data[name] = "on"
        elif value not in (None, False):
            data[name] = value.isoformat() if isinstance(value, datetime.date) else value
    return data


def test_the_login_of_a_customer_cannot_be_changed_in_the_admin(client, support, django_user_model):
    anna = CustomerFactory()
    original_login = anna.user_id
    # A login without a customer profile of its own, such as a staff member's.
    other_login = django_user_model.objects.create_user(
        email="colleague@example.com", password=PASSWORD, is_staff=True
    )
    url = reverse("admin:customers_customer_change", args=[anna.pk])
    login_with_second_factor(client, support)
    page = client.get(url)
    assert page.status_code == 200

    response = client.post(url, {**_form_data(page), "user": other_login.pk, "phone": "0123"})

    assert response.status_code == 302  # saved: the rest of the form was valid
    anna.refresh_from_db()
    assert anna.phone == "0123"
    assert anna.user_id == original_login
    assert not Customer.objects.filter(user=other_login).exists()


def test_support_erasing_customers_leaves_staff_logins_to_a_superuser(
    client, support, django_user_model
):
    anna = CustomerFactory()
    boss = CustomerFactory(email="boss@example.com")
    django_user_model.objects.filter(pk=boss.user_id).update(is_staff=True, is_superuser=True)
    login_with_second_factor(client, support)

    client.post(
        reverse("admin:customers_customer_changelist"),
        {"action": "erase", "_selected_action": [anna.pk, boss.pk], "confirmed": "yes"},
    )

    anna.refresh_from_db()
    boss.refresh_from_db()
    assert anna.erased_at is not None
    assert boss.erased_at is None
    assert django_user_model.objects.get(pk=boss.user_id).is_superuser


def test_a_connection_cannot_be_moved_to_other_people_in_the_admin(client):
    ann, ben, eve = CustomerFactory(), CustomerFactory(), CustomerFactory()
    connection = Connection.objects.create(requester=ann, addressee=ben, status="confirmed")
    root = User.objects.create_superuser(email="root2@example.com", password=PASSWORD)
    login_with_second_factor(client, root)
    response = client.post(
        reverse("admin:customers_connection_change", args=[connection.pk]),
        {"requester": eve.pk, "addressee": ben.pk, "relation": connection.relation,
         "status": "confirmed"},
    )  # fmt: skip
    assert response.status_code == 302
    connection.refresh_from_db()
    assert (connection.requester_id, connection.addressee_id) == (ann.pk, ben.pk)


def _member_with_second_factor(django_user_model):
    member = django_user_model.objects.create_user(
        email="lost-phone@example.com", password=PASSWORD, is_staff=True
    )
    second_factor_add(member)
    RecoveryCodes.activate(member)
    return member


def _reset(client, member):
    return client.post(
        reverse("admin:customers_user_changelist"),
        {"action": "reset_second_factor", "_selected_action": [member.pk]},
    )


def test_a_superuser_resets_a_staff_members_second_factor_and_it_is_in_the_trail(
    client, django_user_model
):
    root = User.objects.create_superuser(email="root@example.com", password=PASSWORD)
    member = _member_with_second_factor(django_user_model)
    login_with_second_factor(client, root)
    response = _reset(client, member)
    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=member).exists()
    access = StaffAccess.objects.get(action=StaffAccess.Action.RESET_SECOND_FACTOR)
    assert access.staff == root and access.customer.user == member
    # Their next admin page sends them to set up a new one.
    client.force_login(member)
    assert client.get(reverse("admin:index"))["Location"] == reverse("mfa_index")


def test_staff_who_may_change_users_still_cannot_reset_a_second_factor(client, django_user_model):
    member = _member_with_second_factor(django_user_model)
    manager = django_user_model.objects.create_user(
        email="manager@example.com", password=PASSWORD, is_staff=True
    )
    manager.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="customers", codename__endswith="user")
    )
    login_with_second_factor(client, manager)
    page = client.get(reverse("admin:customers_user_changelist"))
    assert page.status_code == 200
    action_form = page.context["action_form"]
    assert action_form is None or "reset_second_factor" not in dict(
        action_form.fields["action"].choices
    )
    _reset(client, member)
    assert Authenticator.objects.filter(user=member).count() == 2
    assert not StaffAccess.objects.filter(action=StaffAccess.Action.RESET_SECOND_FACTOR).exists()
    with pytest.raises(PermissionDenied):
        staff_second_factor_reset(superuser=manager, member=member)


def test_the_user_list_shows_who_has_a_second_factor(client, django_user_model):
    root = User.objects.create_superuser(email="root@example.com", password=PASSWORD)
    django_user_model.objects.create_user(email="no-factor@example.com", is_staff=True)
    login_with_second_factor(client, root)
    page = client.get(reverse("admin:customers_user_changelist"))
    shown = {user.email: user.has_second_factor for user in page.context["cl"].result_list}
    assert shown == {"root@example.com": True, "no-factor@example.com": False}
