import pytest
from django.core import mail
from django.db import IntegrityError

from core.models import OutboxEmail
from customers import services
from customers.models import REFERRAL_CODE_ALPHABET, Connection
from customers.services import (
    FriendsListError,
    connection_request,
    connection_respond,
    customer_welcome,
    customer_welcome_send,
)
from tests.factories import ContactPersonFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def test_referral_codes_are_unique_and_unambiguous_over_many_creations():
    customers = [CustomerFactory() for _ in range(300)]
    codes = [c.referral_code for c in customers]
    assert len(set(codes)) == len(codes)
    assert all(len(code) == 8 and set(code) <= set(REFERRAL_CODE_ALPHABET) for code in codes)
    assert not set("01OIL") & set(REFERRAL_CODE_ALPHABET)


def test_referral_code_collision_is_retried(monkeypatch):
    first = CustomerFactory()
    codes = iter([first.referral_code, first.referral_code, "ABCDEFGH"])
    monkeypatch.setattr(services, "referral_code_generate", lambda: next(codes))
    second = CustomerFactory()
    assert second.referral_code == "ABCDEFGH"


def test_new_customer_gets_the_least_busy_contact_person():

    busy, free = ContactPersonFactory(name="Busy"), ContactPersonFactory(name="Free")
    CustomerFactory(contact_person=busy)
    assert CustomerFactory().contact_person == free


def test_friend_request_confirmed_by_the_other_side():
    anna, ben = CustomerFactory(), CustomerFactory()
    request = connection_request(requester=anna, addressee=ben)
    assert request.status == Connection.Status.PENDING
    with pytest.raises(FriendsListError):
        connection_respond(connection=request, by=anna, accept=True)
    connection_respond(connection=request, by=ben, accept=True)
    request.refresh_from_db()
    assert request.status == Connection.Status.CONFIRMED
    with pytest.raises(FriendsListError, match="already been answered"):
        connection_respond(connection=request, by=ben, accept=False)


def test_friend_request_declined_then_asked_again():
    anna, ben = CustomerFactory(), CustomerFactory()
    request = connection_request(requester=anna, addressee=ben)
    connection_respond(connection=request, by=ben, accept=False)
    again = connection_request(requester=ben, addressee=anna)
    assert again.pk == request.pk
    assert (again.requester, again.addressee, again.status) == (ben, anna, "pending")


def test_asking_someone_who_asked_you_confirms_their_request():
    anna, ben = CustomerFactory(), CustomerFactory()
    connection_request(requester=anna, addressee=ben)
    connection = connection_request(requester=ben, addressee=anna)
    assert connection.status == Connection.Status.CONFIRMED
    assert Connection.objects.count() == 1


@pytest.mark.parametrize("twice", [True, False])
def test_friend_request_refusals(twice):
    anna, ben = CustomerFactory(), CustomerFactory()
    if twice:
        connection_request(requester=anna, addressee=ben)
        with pytest.raises(FriendsListError, match="already asked"):
            connection_request(requester=anna, addressee=ben)
    else:
        with pytest.raises(FriendsListError, match="yourself"):
            connection_request(requester=anna, addressee=anna)
    assert Connection.objects.count() == (1 if twice else 0)


def test_database_allows_one_connection_per_pair_in_either_direction():
    anna, ben = CustomerFactory(), CustomerFactory()
    Connection.objects.create(requester=anna, addressee=ben)
    with pytest.raises(IntegrityError):
        Connection.objects.create(requester=ben, addressee=anna)


def test_a_welcome_is_stored_at_once_and_sent_only_once_the_transaction_commits(
    tasks_inline, django_capture_on_commit_callbacks, settings
):
    settings.EMAIL_OUTBOX_SEND_AT_ONCE = False
    customer = CustomerFactory()
    with django_capture_on_commit_callbacks() as callbacks:
        customer_welcome(customer=customer)
        customer.refresh_from_db()
        assert customer.welcomed_at is not None and not mail.outbox
        assert OutboxEmail.objects.get().status == OutboxEmail.Status.PENDING
    (send,) = callbacks
    send()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [customer.user.email]
    assert OutboxEmail.objects.get().status == OutboxEmail.Status.SENT
    assert not customer_welcome_send(customer_id=customer.pk)
