"""The pages that compose several apps: the public home and the customer's dashboard."""

from __future__ import annotations

import gzip
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.services import connection_befriend
from loyalty.ledger import points_award, settle_due, void
from referrals.invitations import invitations_create
from reviews.models import Review
from reviews.services import review_publish
from tests.factories import ContactPersonFactory, CustomerFactory
from tests.loyalty.factories import RewardFactory
from tests.reviews.factories import ReviewFactory

pytestmark = pytest.mark.django_db


def test_home_shows_the_offer_and_recent_published_reviews_only(client):
    ReviewFactory(title="Lovely beans")
    ReviewFactory(title="Waiting for a look", status=Review.Status.PENDING)
    page = client.get(reverse("home")).content.decode()
    assert "Lovely beans" in page and "Waiting for a look" not in page
    assert "Friends you invite get:" in page


def test_home_without_reviews_invites_the_first(client):
    assert "Be the first" in client.get(reverse("home")).content.decode()


def test_home_cached_for_visitors_still_greets_a_signed_in_customer(client):
    assert "Sign up in a minute" in client.get(reverse("home")).content.decode()
    client.force_login(CustomerFactory().user)
    page = client.get(reverse("home")).content.decode()
    assert "Go to your dashboard" in page and "Sign up in a minute" not in page


def test_dashboard_brings_link_points_tier_contact_and_activity_together(client):
    contact = ContactPersonFactory(name="Maya Chen")
    anna = CustomerFactory(first_name="Anna")
    anna.contact_person = contact
    anna.save()
    points_award(customer=anna, points=120, kind="earn", memo="Order A-1")
    points_award(
        customer=anna,
        points=500,
        kind="referral_reward",
        memo="Ben joined",
        settles_at=timezone.now() + timedelta(days=14),
    )
    client.force_login(anna.user)
    page = client.get(reverse("dashboard")).content.decode()
    assert "Hello, Anna" in page
    assert f"/r/{anna.referral_code}" in page and reverse("referrals:qr") in page
    assert "wa.me" in page and "Copy link" in page
    assert "120 points" in page and "Plus 500 pending" in page
    assert 'id="tier-progress"' in page
    assert "Maya Chen" in page
    assert "Referral reward" in page and "+500" in page


@pytest.mark.parametrize(
    ("invited", "points", "reviewed", "nudge"),
    [
        (False, 0, False, "Invite friends"),
        (True, 500, False, "See rewards"),
        (True, 0, False, "Write a review"),
        (True, 0, True, "Invite another friend?"),
    ],
)
def test_dashboard_nudges_the_step_that_fits(client, invited, points, reviewed, nudge):
    anna = CustomerFactory()
    RewardFactory(points_cost=300)
    if invited:
        invitations_create(sender=anna, addresses="friend@example.org", note="")
    if points:
        points_award(customer=anna, points=points, kind="earn", memo="Order")
    if reviewed:
        ReviewFactory(author=anna)
    client.force_login(anna.user)
    page = client.get(reverse("dashboard")).content.decode()
    nudge_html = page.split('class="card nudge"')[1].split("</aside>")[0]
    assert nudge in nudge_html


def test_dashboard_needs_a_login(client):
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def _dashboard(client) -> str:
    return client.get(reverse("dashboard")).content.decode()


def test_dashboard_shows_points_that_settle_at_once(client):
    anna = CustomerFactory()
    points_award(
        customer=anna,
        points=500,
        kind="referral_reward",
        memo="Ben joined",
        settles_at=timezone.now() + timedelta(days=14),
    )
    client.force_login(anna.user)
    assert "Plus 500 pending" in _dashboard(client)  # the points card is now cached
    settle_due(as_of=timezone.now() + timedelta(days=15))
    page = _dashboard(client)
    assert "500 points" in page and "pending" not in page.split('id="points-title"')[1]


def test_dashboard_shows_a_new_purchase_and_a_void_at_once(client):
    anna = CustomerFactory()
    client.force_login(anna.user)
    assert "Nothing yet" in _dashboard(client)
    held = points_award(
        customer=anna,
        points=80,
        kind="earn",
        memo="Order A-2",
        settles_at=timezone.now() + timedelta(days=14),
    )
    assert "Plus 80 pending" in _dashboard(client)
    void(transaction=held, reason="Returned")
    assert "Plus 80 pending" not in _dashboard(client)


def test_dashboard_cards_follow_the_language(client):
    anna = CustomerFactory()
    points_award(customer=anna, points=120, kind="earn", memo="Order A-1")
    client.force_login(anna.user)
    assert "Your points" in _dashboard(client)
    client.post(reverse("set_language"), {"language": "de", "next": "/"})
    assert "Punkte" in _dashboard(client).split('id="points-title"')[1].split("</section>")[0]


def _queries(client, path: str) -> int:
    client.get(path)  # the first request may build the customer's cached fragments
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "path",
    [
        "/me/dashboard/",
        "/me/rewards/",
        "/me/rewards/history/",
        "/me/rewards/catalog/",
        "/me/invite/",
        "/me/friends/",
        "/me/notices/",
    ],
)
def test_customer_pages_ask_as_many_queries_for_a_long_history_as_for_a_short(client, path):
    anna = CustomerFactory()
    client.force_login(anna.user)
    points_award(customer=anna, points=10, kind="earn", memo="Order 0")
    short = _queries(client, path)
    for number in range(1, 40):
        points_award(customer=anna, points=10, kind="earn", memo=f"Order {number}")
    assert _queries(client, path) == short


def test_pages_are_compressed_for_browsers_that_accept_gzip(client):
    ReviewFactory(title="Lovely beans")
    response = client.get(reverse("home"), HTTP_ACCEPT_ENCODING="gzip, br")
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    assert "Lovely beans" in gzip.decompress(response.content).decode()
    assert "Content-Encoding" not in client.get(reverse("home")).headers


def test_public_page_answers_an_unchanged_copy_with_304_until_a_review_is_published(
    client, django_capture_on_commit_callbacks
):
    review = ReviewFactory(title="Lovely beans", status=Review.Status.PENDING)
    first = client.get(reverse("home"))
    assert first.status_code == 200 and "Lovely beans" not in first.content.decode()
    again = client.get(reverse("home"), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""
    with django_capture_on_commit_callbacks(execute=True):
        review_publish(review=review, by=None)
    changed = client.get(reverse("home"), HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and "Lovely beans" in changed.content.decode()
    assert changed["ETag"] != first["ETag"]


def test_public_page_is_built_afresh_for_a_signed_in_customer(client):
    """Their header (notices, the logout form's token) is theirs: no 304 from the data alone."""
    first = client.get(reverse("reviews:subject_list"))
    client.force_login(CustomerFactory().user)
    page = client.get(reverse("reviews:subject_list"), HTTP_IF_NONE_MATCH=first["ETag"])
    assert page.status_code == 200 and "Log out" in page.content.decode()


def test_qr_code_answers_an_unchanged_copy_with_304(client):
    client.force_login(CustomerFactory().user)
    first = client.get(reverse("referrals:qr"))
    assert first.status_code == 200 and first["ETag"]
    again = client.get(reverse("referrals:qr"), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304


def test_dashboard_follows_each_change_it_shows_at_once(client, django_capture_on_commit_callbacks):
    anna = CustomerFactory(first_name="Anna")
    client.force_login(anna.user)
    assert "Your list is empty." in _dashboard(client)
    assert "Your friends would love this too" in _dashboard(client)
    with django_capture_on_commit_callbacks(execute=True):
        connection_befriend(customer=anna, other=CustomerFactory(first_name="Ben"))
    assert "Ben" in _dashboard(client).split('id="friends-title"')[1]
    with django_capture_on_commit_callbacks(execute=True):
        invitations_create(sender=anna, addresses="friend@example.org", note="")
    assert "Write a review" in _dashboard(client)
    with django_capture_on_commit_callbacks(execute=True):
        RewardFactory(points_cost=50)
    points_award(customer=anna, points=60, kind="earn", memo="Order A-1")
    assert "See rewards" in _dashboard(client)
    anna.user.first_name = "Annie"
    anna.user.save()
    page = _dashboard(client)
    assert "Hello, Annie" in page and "Annie%20recommends" in page
    contact = ContactPersonFactory(name="Maya Chen")
    anna.contact_person = contact
    anna.save()
    assert "Maya Chen" in _dashboard(client)


def test_two_customers_never_share_a_dashboard(client):
    anna, ben = CustomerFactory(first_name="Anna"), CustomerFactory(first_name="Ben")
    points_award(customer=anna, points=120, kind="earn", memo="Order A-1")
    client.force_login(anna.user)
    assert anna.referral_code in _dashboard(client)
    client.force_login(ben.user)
    page = _dashboard(client)
    assert ben.referral_code in page and anna.referral_code not in page
    assert "120 points" not in page
