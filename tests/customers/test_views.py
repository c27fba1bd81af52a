import re

import pytest
from django.urls import reverse

from customers.models import Connection
from customers.services import connection_befriend
from tests.factories import ContactPersonFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def test_friends_page_add_confirm_and_decline(client, django_capture_on_commit_callbacks):
    anna, ben, carla = CustomerFactory(), CustomerFactory(), CustomerFactory()
    client.force_login(anna.user)
    page = client.get(reverse("customers:friends")).content.decode()
    assert "Nobody on your list yet" in page

    response = client.post(
        reverse("customers:friends"), {"email": ben.user.email.upper(), "relation": "family"}
    )
    assert response.status_code == 302
    client.post(reverse("customers:friends"), {"email": carla.user.email, "relation": "friend"})

    client.force_login(ben.user)
    incoming = Connection.objects.get(addressee=ben)
    assert anna.name in client.get(reverse("customers:friends")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("customers:friend_respond", args=[incoming.pk]), {"answer": "accept"})
    client.force_login(carla.user)
    declined = Connection.objects.get(addressee=carla)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("customers:friend_respond", args=[declined.pk]), {"answer": "decline"})

    client.force_login(anna.user)
    page = client.get(reverse("customers:friends")).content.decode()
    assert ben.name in page and carla.name not in page
    assert Connection.objects.get(pk=incoming.pk).status == "confirmed"
    assert Connection.objects.get(pk=declined.pk).status == "declined"


def _ask(client, email):
    response = client.post(
        reverse("customers:friends"), {"email": email, "relation": "friend"}, follow=True
    )
    return response.status_code, [str(m) for m in response.context["messages"]], response


def _page_without_tokens(response) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def test_friend_requests_answer_a_member_and_a_stranger_alike(client):
    anna, ben = CustomerFactory(), CustomerFactory()
    client.force_login(anna.user)
    member = _ask(client, ben.user.email)
    stranger = _ask(client, "stranger@example.com")
    assert member[:2] == stranger[:2]
    assert "If that address belongs to a member" in member[1][0]
    # Nothing on the requester's page tells the two apart, the member's name least of all.
    assert _page_without_tokens(member[2]) == _page_without_tokens(stranger[2])
    assert ben.name not in member[2].content.decode()
    # The member gets the request; nobody else learns anything.
    assert Connection.objects.get().addressee == ben
    client.force_login(ben.user)
    assert anna.name in client.get(reverse("customers:friends")).content.decode()


def test_asking_again_or_asking_a_friend_answers_as_for_a_stranger(client):
    anna, ben, carla = CustomerFactory(), CustomerFactory(), CustomerFactory()
    client.force_login(anna.user)
    _ask(client, ben.user.email)
    stranger = _ask(client, "stranger@example.com")
    assert _ask(client, ben.user.email)[:2] == stranger[:2]
    Connection.objects.create(requester=carla, addressee=anna, status="confirmed")
    assert _ask(client, carla.user.email)[:2] == stranger[:2]
    assert Connection.objects.count() == 2


def test_asking_someone_who_asked_you_connects_you(client):
    anna, ben = CustomerFactory(), CustomerFactory()
    Connection.objects.create(requester=ben, addressee=anna)
    client.force_login(anna.user)
    assert _ask(client, ben.user.email)[1] == ["You are now connected."]
    assert Connection.objects.get().status == "confirmed"


def test_asking_yourself_is_refused(client):
    anna = CustomerFactory()
    client.force_login(anna.user)
    response = client.post(
        reverse("customers:friends"), {"email": anna.user.email, "relation": "friend"}
    )
    assert response.status_code == 200
    assert "You can&#x27;t add yourself." in response.content.decode()
    assert not Connection.objects.exists()


def test_only_the_addressee_can_answer_a_request(client):
    anna, ben, mallory = CustomerFactory(), CustomerFactory(), CustomerFactory()
    client.force_login(anna.user)
    client.post(reverse("customers:friends"), {"email": ben.user.email, "relation": "friend"})
    connection = Connection.objects.get()
    client.force_login(mallory.user)
    response = client.post(
        reverse("customers:friend_respond", args=[connection.pk]), {"answer": "accept"}
    )
    assert response.status_code == 404
    response = client.post(reverse("customers:friend_remove", args=[connection.pk]))
    assert response.status_code == 404
    connection.refresh_from_db()
    assert connection.status == "pending"


def test_removing_a_friend_asks_first_and_only_the_confirmation_removes(client):
    anna, ben = CustomerFactory(), CustomerFactory(first_name="Ben", last_name="Osei")
    connection_befriend(customer=anna, other=ben)
    connection = Connection.objects.get()
    client.force_login(anna.user)
    url = reverse("customers:friend_remove", args=[connection.pk])
    assert f'href="{url}"' in client.get(reverse("customers:friends")).content.decode()
    question = client.get(url)
    assert question.status_code == 200
    assert "Remove Ben Osei from your list?" in question.content.decode()
    assert Connection.objects.filter(pk=connection.pk).exists()
    assert client.post(url).status_code == 302
    assert not Connection.objects.filter(pk=connection.pk).exists()


def test_profile_update_records_consent_change_time(client):
    anna = CustomerFactory()
    client.force_login(anna.user)
    response = client.post(
        reverse("customers:profile"),
        {
            "display_name": "Annie",
            "phone": "+44 1234",
            "birthday": "1990-05-04",
            "interests": "espresso",
            "preferred_channel": "email",
            "marketing_consent": "on",
        },
    )
    assert response.status_code == 302
    anna.refresh_from_db()
    assert anna.display_name == "Annie" and anna.marketing_consent
    assert anna.marketing_consent_at is not None


def test_portal_pages_need_login(client):
    for name in ["dashboard", "customers:profile", "customers:friends"]:
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))


def test_dashboard_shows_contact_person(client):

    contact = ContactPersonFactory(name="Sam Rivera", role="Customer care")
    anna = CustomerFactory()
    assert anna.contact_person == contact
    client.force_login(anna.user)
    page = client.get(reverse("dashboard")).content.decode()
    assert "Sam Rivera" in page and "Customer care" in page


@pytest.mark.parametrize(
    ("relation", "sentence"),
    [
        ("colleague", "says you are their colleague."),
        ("family", "says you are family."),
        ("friend", "says you are their friend."),
    ],
)
def test_friend_request_names_the_relation_in_running_text(client, relation, sentence):
    anna, ben = CustomerFactory(first_name="Anna"), CustomerFactory()
    Connection.objects.create(requester=anna, addressee=ben, relation=relation)
    client.force_login(ben.user)
    page = client.get(reverse("customers:friends")).content.decode()
    assert f"{anna.name} {sentence}" in page


def test_empty_friends_list_points_at_the_form_wherever_it_is_laid_out(client):
    client.force_login(CustomerFactory().user)
    page = client.get(reverse("customers:friends")).content.decode()
    assert 'href="#add-title"' in page
    assert "below" not in page
