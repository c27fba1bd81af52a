import pytest
from django.urls import reverse

from customers.models import Connection
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_friends_page_add_confirm_and_decline(client):
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
    client.post(reverse("customers:friend_respond", args=[incoming.pk]), {"answer": "accept"})
    client.force_login(carla.user)
    declined = Connection.objects.get(addressee=carla)
    client.post(reverse("customers:friend_respond", args=[declined.pk]), {"answer": "decline"})

    client.force_login(anna.user)
    page = client.get(reverse("customers:friends")).content.decode()
    assert ben.name in page and carla.name not in page
    assert Connection.objects.get(pk=incoming.pk).status == "confirmed"
    assert Connection.objects.get(pk=declined.pk).status == "declined"


def test_friend_request_to_unknown_address_suggests_inviting(client):
    anna = CustomerFactory()
    client.force_login(anna.user)
    response = client.post(
        reverse("customers:friends"), {"email": "stranger@example.com", "relation": "friend"}
    )
    assert response.status_code == 200
    assert "Invite them instead" in response.content.decode()
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
    from tests.factories import ContactPersonFactory

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
