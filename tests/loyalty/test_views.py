from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.services import connection_befriend
from loyalty import ledger
from loyalty.gifts import gift_to_friend
from loyalty.models import Gift, Voucher
from loyalty.selectors import balance
from loyalty.vouchers import (
    reward_redeem,
    voucher_issue,
    voucher_use,
    voucher_void,
    vouchers_expire,
)
from tests.factories import CustomerFactory
from tests.loyalty.factories import RewardFactory, settled_points

pytestmark = pytest.mark.django_db


@pytest.fixture
def anna(client):
    customer = CustomerFactory()
    client.force_login(customer.user)
    return customer


@pytest.mark.parametrize("name", ["overview", "history", "catalog", "vouchers", "gift"])
def test_pages_need_a_login(client, name):
    response = client.get(reverse(f"loyalty:{name}"))
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_overview_shows_settled_pending_with_its_date_tier_and_progress(client, anna):
    settled_points(anna, 250)
    settles_at = timezone.now() + timedelta(days=14)
    ledger.points_award(customer=anna, points=40, kind="earn", memo="Held", settles_at=settles_at)
    page = client.get(reverse("loyalty:overview")).content.decode()
    assert "250 points" in page
    assert "Plus 40 pending" in page and settles_at.strftime("%Y") in page
    # Held purchase points count toward the tier until a refund voids them.
    assert "Bronze" in page and 'value="29"' in page and "On your way to Silver" in page
    assert "No vouchers yet" in page
    assert reverse("loyalty:overview") in page  # the nav link


def test_history_is_newest_first_paginated_by_twenty_and_readable(client, anna):
    for i in range(22):
        ledger.points_award(customer=anna, points=i + 1, kind="earn", memo=f"Order number {i}")
    first = client.get(reverse("loyalty:history")).content.decode()
    assert "Order number 21" in first and "Order number 2<" not in first
    assert first.index("Order number 21") < first.index("Order number 20")
    assert "Page 1 of 2" in first
    second = client.get(reverse("loyalty:history"), {"page": 2}).content.decode()
    assert "Order number 0" in second and "Order number 21" not in second


def test_history_says_who_a_gift_came_from(client, anna):
    ben = CustomerFactory(first_name="Benedikt")
    connection_befriend(customer=anna, other=ben)
    settled_points(ben, 50)
    gift_to_friend(sender=ben, recipient=anna, points=20)
    page = client.get(reverse("loyalty:history")).content.decode()
    assert "Gift from Benedikt" in page and "+20" in page


def test_empty_states(client, anna):
    assert "Nothing here yet" in client.get(reverse("loyalty:history")).content.decode()
    assert "no vouchers yet" in client.get(reverse("loyalty:vouchers")).content.decode()
    assert "catalog is empty" in client.get(reverse("loyalty:catalog")).content.decode()
    assert "it is empty" in client.get(reverse("loyalty:gift")).content.decode()


def test_redeem_asks_for_confirmation_then_issues_a_voucher_with_a_message(client, anna):
    settled_points(anna, 150)
    reward = RewardFactory(name="Free flat white", points_cost=100)
    catalog = client.get(reverse("loyalty:catalog")).content.decode()
    url = reverse("loyalty:redeem", args=[reward.public_id])
    assert "Free flat white" in catalog and url in catalog
    confirm = client.get(url)
    assert b"Yes, redeem" in confirm.content
    assert not Voucher.objects.exists()
    response = client.post(url, follow=True)
    voucher = Voucher.objects.get()
    assert response.redirect_chain[-1][0] == reverse("loyalty:vouchers")
    page = response.content.decode()
    assert f"Your voucher code is {voucher.code}" in page and "Free flat white" in page
    assert balance(customer=anna).settled == 50


def test_redeem_without_enough_points_says_so_and_spends_nothing(client, anna):
    settled_points(anna, 50)
    reward = RewardFactory(points_cost=100)
    RewardFactory(points_cost=51)
    catalog = client.get(reverse("loyalty:catalog")).content.decode()
    assert "You need 50 more settled points." in catalog
    assert "You need 1 more settled point." in catalog
    response = client.post(reverse("loyalty:redeem", args=[reward.public_id]), follow=True)
    assert b"Not enough settled points" in response.content
    assert balance(customer=anna).settled == 50 and not Voucher.objects.exists()


def test_inactive_reward_cannot_be_redeemed(client, anna):
    reward = RewardFactory(is_active=False)
    assert client.post(reverse("loyalty:redeem", args=[reward.public_id])).status_code == 404


def test_gift_form_sends_points_to_a_friend(client, anna):
    ben = CustomerFactory()
    connection_befriend(customer=anna, other=ben)
    settled_points(anna, 100)
    form = {"friend": ben.pk, "what": "points", "points": 30, "note": "Coffee on me"}
    response = client.post(reverse("loyalty:gift"), form, follow=True)
    assert b"Your gift is on its way" in response.content
    assert (balance(customer=anna).settled, balance(customer=ben).settled) == (70, 30)
    assert Gift.objects.get().note == "Coffee on me"


@pytest.mark.parametrize(
    "form, error",
    [
        ({"what": "points"}, "How many points"),
        ({"what": "reward"}, "Choose a reward"),
        ({"what": "points", "points": 500}, "Not enough settled points"),
        ({"what": "points", "points": 5, "friend": "stranger"}, "Select a valid choice"),
    ],
    ids=["no-points", "no-reward", "too-many", "not-a-friend"],
)
def test_gift_form_errors_change_nothing(client, anna, form, error):
    ben, stranger = CustomerFactory(), CustomerFactory()
    connection_befriend(customer=anna, other=ben)
    settled_points(anna, 100)
    form["friend"] = stranger.pk if form.get("friend") == "stranger" else ben.pk
    response = client.post(reverse("loyalty:gift"), form)
    assert response.status_code == 200 and error in response.content.decode()
    assert balance(customer=anna).settled == 100 and not Gift.objects.exists()


def test_history_shows_a_new_posting_and_a_settlement_at_once(client, anna):
    settles_at = timezone.now() + timedelta(days=14)
    ledger.points_award(
        customer=anna, points=40, kind="earn", memo="Order A-1", settles_at=settles_at
    )
    assert "Pending until" in client.get(reverse("loyalty:history")).content.decode()
    ledger.settle_due(as_of=settles_at + timedelta(seconds=1))
    ledger.points_award(customer=anna, points=7, kind="earn", memo="Order A-2")
    page = client.get(reverse("loyalty:history")).content.decode()
    assert "Order A-2" in page and "Pending until" not in page


def test_vouchers_page_shows_an_issue_a_use_a_cancel_and_an_expiry_at_once(
    client, anna, django_capture_on_commit_callbacks
):
    reward = RewardFactory(name="Cake slice")
    page = reverse("loyalty:vouchers")
    assert "You have no vouchers yet." in client.get(page).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        first = voucher_issue(customer=anna, reward=reward)
        second = voucher_issue(customer=anna, reward=reward)
        third = voucher_issue(customer=anna, reward=reward)
    shown = client.get(page).content.decode()
    assert first.code in shown and shown.count("Active") == 3
    with django_capture_on_commit_callbacks(execute=True):
        voucher_use(code=first.code, order_id="A-1")
    assert client.get(page).content.decode().count("Active") == 2
    with django_capture_on_commit_callbacks(execute=True):
        voucher_void(voucher=second, reason="Asked", refund=False)
    assert client.get(page).content.decode().count("Active") == 1
    with django_capture_on_commit_callbacks(execute=True):
        vouchers_expire(now=third.expires_at + timedelta(seconds=1))
    assert "Active" not in client.get(page).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        reward.name = "Cheesecake slice"
        reward.save()
    assert "Cheesecake slice" in client.get(page).content.decode()


def test_customers_never_see_each_others_cached_vouchers(client, anna):
    voucher = voucher_issue(customer=anna, reward=RewardFactory())
    assert voucher.code in client.get(reverse("loyalty:vouchers")).content.decode()
    ben = CustomerFactory()
    client.force_login(ben.user)
    assert voucher.code not in client.get(reverse("loyalty:vouchers")).content.decode()
    assert voucher.code not in client.get(reverse("loyalty:overview")).content.decode()


def test_catalog_shows_a_new_reward_its_stock_and_the_points_at_once(
    client, anna, django_capture_on_commit_callbacks
):
    page = reverse("loyalty:catalog")
    assert "The catalog is empty right now." in client.get(page).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        reward = RewardFactory(name="Mug", points_cost=100, stock=2)
    shown = client.get(page).content.decode()
    assert "Mug" in shown and "2 left" in shown and "You need 100 more settled points." in shown
    settled_points(anna, 150)
    with django_capture_on_commit_callbacks(execute=True):
        reward_redeem(customer=anna, reward=reward)
    shown = client.get(page).content.decode()
    assert "1 left" in shown and "You need 50 more settled points." in shown


def test_rewards_overview_shows_a_new_voucher_and_points_at_once(
    client, anna, django_capture_on_commit_callbacks
):
    page = reverse("loyalty:overview")
    assert "No vouchers yet." in client.get(page).content.decode()
    settled_points(anna, 300)
    with django_capture_on_commit_callbacks(execute=True):
        redemption = reward_redeem(customer=anna, reward=RewardFactory(points_cost=100))
    shown = client.get(page).content.decode()
    assert redemption.voucher.code in shown and "200 points" in shown


def test_gift_form_offers_a_new_friend_and_reward_at_once_and_redraws_errors(
    client, anna, django_capture_on_commit_callbacks
):
    page = reverse("loyalty:gift")
    assert "it is empty" in client.get(page).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        ben = CustomerFactory(first_name="Ben")
        connection_befriend(customer=anna, other=ben)
    shown = client.get(page).content.decode()
    assert f'value="{ben.pk}"' in shown and "it is empty" not in shown
    with django_capture_on_commit_callbacks(execute=True):
        RewardFactory(name="Tasting box")
    assert "Tasting box" in client.get(page).content.decode()
    sent = client.post(page, {"friend": ben.pk, "what": "points"}).content.decode()
    assert "How many points" in sent
    assert "How many points would you like" not in client.get(page).content.decode()
    first, second = (client.get(page).content.decode() for _ in range(2))
    token = 'name="csrfmiddlewaretoken" value="'
    assert first.split(token)[-1][:64] != second.split(token)[-1][:64]
