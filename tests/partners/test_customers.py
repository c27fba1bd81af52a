from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.models import Customer
from loyalty.ledger import points_award
from loyalty.models import Account, Tier, Transaction
from partners.models import PartnerCustomer
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/"
CUSTOMER_FIELDS = {
    "id", "external_id", "email", "first_name", "last_name", "referral_code",
    "referral_url", "referred_by", "tier", "points", "link", "created_at",
}  # fmt: skip


def test_new_email_creates_a_customer_with_a_portal_account(api, linked_customer):
    assert set(linked_customer) == CUSTOMER_FIELDS
    assert linked_customer["referred_by"] is None and linked_customer["tier"] == "Bronze"
    assert linked_customer["external_id"] == "shop-1"
    assert linked_customer["email"] == "anna@example.com"
    assert linked_customer["points"] == {"balance": 0, "pending": 0}
    customer = Customer.objects.get(public_id=linked_customer["id"])
    assert linked_customer["referral_code"] == customer.referral_code
    assert customer.user.first_name == "Anna" and not customer.user.has_usable_password()


def test_known_email_links_the_existing_customer_with_200(api):
    existing = CustomerFactory(email="ben@example.com")
    response = api.post(URL, {"external_id": "b-7", "email": "BEN@example.com"})
    assert response.status_code == 200
    assert response.json()["id"] == str(existing.public_id)
    assert response.json()["external_id"] == "b-7"
    assert Customer.objects.count() == 1


def test_relinking_under_a_new_external_id_replaces_it(api, linked_customer):
    response = api.post(URL, {"external_id": "shop-2", "email": "anna@example.com"})
    assert response.status_code == 200 and response.json()["external_id"] == "shop-2"
    assert PartnerCustomer.objects.get().external_id == "shop-2"


def test_external_id_of_another_customer_is_409_and_changes_nothing(api, linked_customer):
    response = api.post(URL, {"external_id": "shop-1", "email": "zed@example.com"})
    assert response.status_code == 409
    assert response.json() == {"detail": response.json()["detail"], "code": "external_id_taken"}
    assert not Customer.objects.filter(user__email="zed@example.com").exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"external_id": "x"}, "email"),
        ({"external_id": "x", "email": "nope"}, "email"),
        ({"email": "a@example.com"}, "external_id"),
        ({"external_id": "", "email": "a@example.com"}, "external_id"),
        ({"external_id": "x" * 256, "email": "a@example.com"}, "external_id"),
    ],
)
def test_invalid_customer_is_a_field_error_and_changes_nothing(api, body, field):
    response = api.post(URL, body)
    assert response.status_code == 400
    assert field in response.json() and isinstance(response.json()[field], list)
    assert not Customer.objects.exists()


INVISIBLE_OR_CONTROL = ["shop\u202e1", "shop\u200b1", "shop\n1", "shop\x1b[31m1", "shop\u00ad1"]


@pytest.mark.parametrize("external_id", INVISIBLE_OR_CONTROL)
def test_external_id_with_invisible_or_control_characters_is_400_on_external_id(api, external_id):
    response = api.post(URL, {"external_id": external_id, "email": "anna@example.com"})
    assert response.status_code == 400
    assert list(response.json()) == ["external_id"]
    assert not Customer.objects.exists() and not PartnerCustomer.objects.exists()


@pytest.mark.parametrize("external_id", INVISIBLE_OR_CONTROL)
def test_looking_up_an_external_id_with_invisible_or_control_characters_is_400(
    api, linked_customer, external_id
):
    response = api.get(URL, {"external_id": external_id})
    assert response.status_code == 400
    assert list(response.json()) == ["external_id"]


def test_external_id_in_any_script_with_punctuation_is_taken(api):
    response = api.post(URL, {"external_id": "kund/Åsa-42_東京#7", "email": "asa@example.com"})
    assert response.status_code == 201
    assert response.json()["external_id"] == "kund/Åsa-42_東京#7"


def test_read_and_look_up_a_linked_customer(api, linked_customer):
    detail = api.get(f"{URL}{linked_customer['id']}/")
    assert detail.status_code == 200 and detail.json() == linked_customer
    for query in ({"email": "ANNA@example.com"}, {"external_id": "shop-1"}):
        found = api.get(URL, query).json()
        assert found["count"] == 1 and found["results"][0]["id"] == linked_customer["id"]
    assert api.get(URL, {"external_id": "nobody"}).json()["count"] == 0
    assert api.get(URL, {"email": "not-an-email"}).status_code == 400


def test_another_partners_customer_is_404_everywhere(api, other_api, linked_customer):
    CustomerFactory(email="stranger@example.com")
    base = f"{URL}{linked_customer['id']}/"
    for response in (
        other_api.get(base),
        other_api.get(f"{base}transactions/"),
        other_api.post(f"{base}points/", {"points": 5, "reason": "Nice try"}),
    ):
        assert response.status_code == 404
        assert response.json() == {"detail": response.json()["detail"], "code": "not_found"}
    assert other_api.get(URL).json()["count"] == 0
    assert other_api.get(URL, {"email": "anna@example.com"}).json()["count"] == 0
    assert api.get(URL).json()["count"] == 1
    assert api.get(f"{URL}00000000-0000-0000-0000-000000000000/").status_code == 404
    assert Transaction.objects.count() == 0


def test_each_partner_sees_its_own_external_id(api, other_api, linked_customer):
    other_api.post(URL, {"external_id": "other-77", "email": "anna@example.com"})
    assert other_api.get(f"{URL}{linked_customer['id']}/").json()["external_id"] == "other-77"
    assert api.get(f"{URL}{linked_customer['id']}/").json()["external_id"] == "shop-1"
    assert api.get(URL).json()["count"] == 1


def test_award_points_posts_at_once_and_shows_in_history(api, linked_customer):
    base = f"{URL}{linked_customer['id']}/"
    response = api.post(f"{base}points/", {"points": 50, "reason": "Sorry for the wait"})
    assert response.status_code == 201
    body = response.json()
    assert body["points"] == 50 and body["status"] == "posted" and body["settles_at"] is None
    assert body["memo"] == "Sorry for the wait"
    assert api.get(base).json()["points"] == {"balance": 50, "pending": 0}
    history = api.get(f"{base}transactions/").json()
    assert history["count"] == 1 and history["results"][0] == body


def test_history_is_newest_first_with_signed_points(api, linked_customer):
    customer = Customer.objects.get(public_id=linked_customer["id"])
    points_award(customer=customer, points=30, kind="earn", memo="First")
    points_award(
        customer=customer,
        points=20,
        kind="referral_reward",
        memo="Second",
        settles_at=customer.created_at,
    )
    results = api.get(f"{URL}{linked_customer['id']}/transactions/").json()["results"]
    assert [(r["memo"], r["points"], r["status"]) for r in results] == [
        ("Second", 20, "pending"),
        ("First", 30, "posted"),
    ]
    assert set(results[0]) == {
        "id", "kind", "status", "points", "memo", "created_at", "settles_at",
    }  # fmt: skip


@pytest.mark.parametrize(
    "body",
    [{"points": 0, "reason": "x"}, {"points": -5, "reason": "x"}, {"points": 5},
     {"points": "lots", "reason": "x"}, {"points": 2.5, "reason": "x"}],
)  # fmt: skip
def test_bad_award_is_a_field_error_and_changes_nothing(api, linked_customer, body):
    response = api.post(f"{URL}{linked_customer['id']}/points/", body)
    assert response.status_code == 400
    assert set(response.json()) <= {"points", "reason"}
    assert Transaction.objects.count() == 0


def test_customer_read_takes_one_query_whatever_the_history(api, linked_customer):
    """One statement once the tier is placed; a posting makes the next read place it again."""

    url = f"{URL}{linked_customer['id']}/"
    customer = Customer.objects.get(public_id=linked_customer["id"])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get(url).status_code == 200
        return len(captured)

    assert queries() == 1  # placed when the customer was created and answered
    for n in range(20):
        points_award(customer=customer, points=n + 1, kind="earn", memo=f"#{n}")
    assert queries() > 1
    assert queries() == 1


def test_tier_is_placed_again_after_postings_staff_changes_and_time(api, linked_customer):

    url = f"{URL}{linked_customer['id']}/"
    customer = Customer.objects.get(public_id=linked_customer["id"])
    assert api.get(url).json()["tier"] == "Bronze"
    Tier.objects.filter(name="Bronze").update(name="Copper")
    assert api.get(url).json()["tier"] == "Copper"  # the name is read with the customer

    points_award(customer=customer, points=1000, kind="earn", memo="Big order")
    assert api.get(url).json()["tier"] == "Silver"

    silver = Tier.objects.get(name="Silver")
    silver.min_points = 5000
    silver.save()
    assert api.get(url).json()["tier"] == "Copper"

    Account.objects.filter(customer=customer).update(tier=silver)  # as placed an hour ago
    assert api.get(url).json()["tier"] == "Silver"
    Account.objects.filter(customer=customer).update(
        tier_fresh_until=timezone.now() - timedelta(seconds=1)
    )
    assert api.get(url).json()["tier"] == "Copper"


def test_the_language_given_on_create_is_stored_on_a_new_customer(api):
    response = api.post(URL, {"external_id": "fr-1", "email": "zoe@example.com", "language": "fr"})
    assert response.status_code == 201, response.content
    assert Customer.objects.get(public_id=response.json()["id"]).language == "fr"


def test_an_existing_customer_keeps_their_language_and_an_unknown_one_is_refused(api):
    existing = CustomerFactory(email="ben@example.com", language="de")
    response = api.post(URL, {"external_id": "b-1", "email": "ben@example.com", "language": "fr"})
    assert response.status_code == 200
    existing.refresh_from_db()
    assert existing.language == "de"
    response = api.post(URL, {"external_id": "x-1", "email": "x@example.com", "language": "es"})
    assert response.status_code == 400
    assert list(response.json()) == ["language"]
