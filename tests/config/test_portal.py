"""The pages that compose several apps: the public home and the customer's dashboard."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from loyalty.ledger import points_award
from referrals.invitations import invitations_create
from reviews.models import Review
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
