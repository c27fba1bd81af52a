"""Merchants: a member is linked only with their yes, and knowing an email gives nothing."""

import datetime as dt
import re

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer, User
from loyalty import ledger
from loyalty.earning import earn_rule
from loyalty.models import Transaction
from loyalty.selectors import balance
from partners.links import links_sweep
from partners.models import Partner, PartnerCustomer, WebhookEvent
from tests.factories import CustomerFactory
from tests.loyalty.factories import RewardFactory, settled_points
from tests.partners.factories import PartnerFactory
from tests.referrals.factories import active_program
from tests.support import PartnerClient, login_with_second_factor, wait_for

pytestmark = pytest.mark.django_db

PENDING_FIELDS = {"id", "external_id", "link"}


@pytest.fixture
def shop():
    """The business's own shop, which links customers at once."""
    return PartnerClient(PartnerFactory(name="Own shop", kind=Partner.Kind.OWN))


@pytest.fixture
def merchant():
    return PartnerClient(
        PartnerFactory(
            name="Corner bakery", kind=Partner.Kind.MERCHANT, webhook_url="http://127.0.0.1:9/h"
        )
    )


@pytest.fixture
def anna(shop):
    """A member the own shop knows, with points and a purchase of her own there."""
    response = shop.post(
        "/api/v1/customers/",
        {"external_id": "shop-anna", "email": "anna@example.com", "first_name": "Anna"},
    )
    assert response.status_code == 201, response.content
    customer = Customer.objects.get(public_id=response.json()["id"])
    settled_points(customer, 500)
    bought = shop.post(
        "/api/v1/conversions/",
        {"customer": str(customer.public_id), "order_id": "SHOP-77", "amount": "30.00",
         "currency": "EUR"},
    )  # fmt: skip
    assert bought.status_code == 201, bought.content
    return customer


def _ask(api, email, external_id="m-1", **more):
    return api.post("/api/v1/customers/", {"external_id": external_id, "email": email, **more})


def _consent_url(message) -> str:
    return re.search(r"http://\S+/partner-links/\S+/", message.body).group(0)


def _answer(client, message, answer):
    path = _consent_url(message).split("://", 1)[1].split("/", 1)[1]
    return client.post("/" + path, {"answer": answer})


def test_a_merchant_gets_the_same_pending_answer_for_a_member_and_a_stranger(
    merchant, anna, tasks_inline, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        member = _ask(merchant, "anna@example.com", "m-anna")
        stranger = _ask(merchant, "nobody@example.com", "m-nobody")
    assert member.status_code == stranger.status_code == 202
    assert set(member.json()) == set(stranger.json()) == PENDING_FIELDS
    assert member.json()["link"] == stranger.json()["link"] == "pending"
    assert "points" not in member.content.decode() and "Anna" not in member.content.decode()
    assert sorted(message.to[0] for message in mail.outbox) == [
        "anna@example.com",
        "nobody@example.com",
    ]
    assert all("Corner bakery" in message.subject for message in mail.outbox)


def test_a_pending_link_shows_only_itself_and_refuses_the_rest(merchant, anna):
    points = balance(customer=anna).settled
    pending = _ask(merchant, "anna@example.com").json()
    customer_url = f"/api/v1/customers/{pending['id']}/"
    detail = merchant.get(customer_url)
    assert detail.status_code == 200 and set(detail.json()) == PENDING_FIELDS
    listed = merchant.get("/api/v1/customers/?email=anna@example.com").json()["results"]
    assert [set(item) for item in listed] == [PENDING_FIELDS]
    refused = [
        merchant.get(customer_url + "transactions/"),
        merchant.post(customer_url + "points/", {"points": 5, "reason": "hello"}),
        merchant.post(customer_url + "redact/"),
        merchant.post(customer_url + "data-requests/"),
        merchant.post(
            "/api/v1/redemptions/",
            {"customer": pending["id"], "reward": str(RewardFactory().public_id)},
        ),
    ]
    assert [response.status_code for response in refused] == [409] * 5
    assert {response.json()["code"] for response in refused} == {"link_pending"}
    anna.refresh_from_db()
    anna.user.refresh_from_db()
    assert anna.erased_at is None and anna.user.is_active
    assert balance(customer=anna).settled == points


def test_a_merchant_cannot_see_a_voucher_of_a_pending_member(merchant, shop, anna):
    reward = RewardFactory(points_cost=100)
    redeemed = shop.post(
        "/api/v1/redemptions/", {"customer": str(anna.public_id), "reward": str(reward.public_id)}
    )
    code = redeemed.json()["voucher"]["code"]
    _ask(merchant, "anna@example.com")
    assert merchant.get(f"/api/v1/vouchers/{code}/").status_code == 404
    assert merchant.post(f"/api/v1/vouchers/{code}/use/", {"order_id": "X"}).status_code == 404


def test_opening_the_consent_link_changes_nothing_and_yes_links(
    merchant, anna, client, tasks_inline, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        pending = _ask(merchant, "anna@example.com").json()
    (message,) = mail.outbox
    page = client.get(_consent_url(message))
    assert page.status_code == 200 and "Corner bakery" in page.content.decode()
    link = PartnerCustomer.objects.get(partner=merchant.partner)
    assert link.status == PartnerCustomer.Status.PENDING
    with django_capture_on_commit_callbacks(execute=True):
        answered = _answer(client, message, "yes")
    assert answered.status_code == 200 and "You are linked" in answered.content.decode()
    link.refresh_from_db()
    assert link.status == PartnerCustomer.Status.ACTIVE
    detail = merchant.get(f"/api/v1/customers/{pending['id']}/").json()
    assert detail["link"] == "active" and detail["points"]["balance"] > 0
    event = WebhookEvent.objects.get(partner=merchant.partner, type="customer.linked")
    assert event.data == {"customer": str(anna.public_id), "external_id": "m-1"}
    # The link is spent: answering again changes nothing.
    spent = _answer(client, message, "no")
    assert spent.status_code == 404
    assert "may have been answered already" in spent.content.decode()
    link.refresh_from_db()
    assert link.status == PartnerCustomer.Status.ACTIVE


def test_a_forged_consent_link_answers_nothing(client, merchant, anna):
    _ask(merchant, "anna@example.com")
    response = client.post("/partner-links/forged-token/", {"answer": "yes"})
    assert response.status_code == 404
    assert PartnerCustomer.objects.get(partner=merchant.partner).status == "pending"


def test_no_ends_the_link_and_a_stranger_who_said_no_is_forgotten(
    merchant, client, tasks_inline, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        pending = _ask(merchant, "nobody@example.com", first_name="Nina").json()
    (message,) = mail.outbox
    with django_capture_on_commit_callbacks(execute=True):
        assert _answer(client, message, "no").status_code == 200
    assert merchant.get(f"/api/v1/customers/{pending['id']}/").status_code == 404
    assert not User.objects.filter(email="nobody@example.com").exists()
    assert Customer.objects.get(public_id=pending["id"]).erased_at is not None
    ended = WebhookEvent.objects.get(partner=merchant.partner, type="customer.link_ended")
    assert ended.data["reason"] == "declined"


def test_a_members_no_leaves_their_account_alone(
    merchant, shop, anna, client, tasks_inline, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _ask(merchant, "anna@example.com")
    _answer(client, mail.outbox[0], "no")
    anna.refresh_from_db()
    assert anna.erased_at is None
    assert shop.get(f"/api/v1/customers/{anna.public_id}/").json()["link"] == "active"


def test_purchases_wait_for_the_yes_and_are_voided_by_a_no(
    merchant, anna, client, tasks_inline, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        pending = _ask(merchant, "anna@example.com").json()
    before = balance(customer=anna)
    bought = merchant.post(
        "/api/v1/conversions/",
        {"customer": pending["id"], "order_id": "BAKE-1", "amount": "20.00", "currency": "EUR"},
    )
    assert bought.status_code == 201, bought.content
    assert bought.json()["points_earned"] == 0 and bought.json()["referral_reward"] is None
    held = Transaction.objects.get(cause="conversion", memo__contains="BAKE-1")
    assert held.status == Transaction.Status.PENDING
    assert held.settles_at > timezone.now() + dt.timedelta(days=30)
    assert balance(customer=anna).settled == before.settled
    _answer(client, mail.outbox[0], "no")
    held.refresh_from_db()
    assert held.status == Transaction.Status.VOIDED
    assert balance(customer=anna).pending == before.pending


def test_a_yes_releases_held_points_and_qualifies_the_referral(
    merchant, client, tasks_inline, django_capture_on_commit_callbacks
):
    active_program()
    referrer = CustomerFactory(email="rita@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        pending = _ask(merchant, "fred@example.com", referral_code=referrer.referral_code).json()
    merchant.post(
        "/api/v1/conversions/",
        {"customer": pending["id"], "order_id": "BAKE-2", "amount": "20.00", "currency": "EUR"},
    )
    held = Transaction.objects.get(cause="conversion", memo__contains="BAKE-2")
    assert not Transaction.objects.filter(kind=Transaction.Kind.REFERRAL_REWARD).exists()
    _answer(client, mail.outbox[0], "yes")
    held.refresh_from_db()
    assert held.status == Transaction.Status.PENDING
    assert held.settles_at <= timezone.now() + dt.timedelta(days=1)
    assert Transaction.objects.filter(kind=Transaction.Kind.REFERRAL_REWARD).exists()


def test_an_unanswered_request_ends_after_thirty_days(merchant, anna):
    _ask(merchant, "anna@example.com")
    link = PartnerCustomer.objects.get(partner=merchant.partner)
    PartnerCustomer.objects.filter(pk=link.pk).update(
        requested_at=timezone.now() - dt.timedelta(days=31), request_sent_at=timezone.now()
    )
    assert links_sweep() == (0, 1)
    link.refresh_from_db()
    assert link.status == PartnerCustomer.Status.ENDED
    assert WebhookEvent.objects.get(type="customer.link_ended").data["reason"] == "unanswered"


def test_a_request_is_emailed_with_the_link_so_no_broker_can_lose_it(merchant, anna):
    _ask(merchant, "anna@example.com")
    asked = PartnerCustomer.objects.filter(partner=merchant.partner)
    assert [message.to for message in mail.outbox] == [["anna@example.com"]]
    assert asked.get().request_sent_at is not None
    asked.update(requested_at=timezone.now() - dt.timedelta(minutes=6))
    assert links_sweep() == (0, 0)
    assert len(mail.outbox) == 1


def _linked(merchant, anna):
    _ask(merchant, "anna@example.com")
    PartnerCustomer.objects.filter(partner=merchant.partner).update(status="active")


def test_a_merchant_reads_its_own_memos_and_not_what_was_bought_elsewhere(merchant, anna):
    _linked(merchant, anna)
    merchant.post(
        "/api/v1/conversions/",
        {"customer": str(anna.public_id), "order_id": "BAKE-9", "amount": "10.00",
         "currency": "EUR"},
    )  # fmt: skip
    merchant.post(f"/api/v1/customers/{anna.public_id}/points/", {"points": 3, "reason": "Tea"})
    history = merchant.get(f"/api/v1/customers/{anna.public_id}/transactions/").json()
    memos = [item["memo"] for item in history["results"]]
    assert "Tea" in memos and any("BAKE-9" in memo for memo in memos)
    assert not any("SHOP-77" in memo or "Test points" in memo for memo in memos)
    assert len(memos) == 4 and memos.count("") == 2


def test_an_own_site_reads_every_memo(shop, anna):
    history = shop.get(f"/api/v1/customers/{anna.public_id}/transactions/").json()
    memos = [item["memo"] for item in history["results"]]
    assert any("SHOP-77" in memo for memo in memos) and "Test points" in memos


def test_a_merchants_redaction_ends_its_link_only(merchant, shop, anna):
    _linked(merchant, anna)
    response = merchant.post(f"/api/v1/customers/{anna.public_id}/redact/")
    assert response.status_code == 200
    assert merchant.get(f"/api/v1/customers/{anna.public_id}/").status_code == 404
    assert not PartnerCustomer.objects.filter(partner=merchant.partner).exists()
    anna.refresh_from_db()
    anna.user.refresh_from_db()
    assert anna.erased_at is None and anna.user.is_active
    assert shop.get(f"/api/v1/customers/{anna.public_id}/").json()["email"] == "anna@example.com"
    assert WebhookEvent.objects.get(type="customer.link_ended").data["reason"] == "redacted"


@pytest.mark.parametrize("kind", [Partner.Kind.OWN, Partner.Kind.MERCHANT])
def test_no_partner_erases_a_staff_account(kind):
    staff = CustomerFactory(email="boss@example.com")
    User.objects.filter(pk=staff.user.pk).update(is_staff=True, is_superuser=True)
    api = PartnerClient(PartnerFactory(kind=kind))
    _ask(api, "boss@example.com", "boss")
    PartnerCustomer.objects.filter(partner=api.partner).update(status="active")
    response = api.post(f"/api/v1/customers/{staff.public_id}/redact/")
    assert response.status_code == 409 and response.json()["code"] == "staff_account"
    staff.user.refresh_from_db()
    assert staff.user.is_active and staff.user.is_staff and staff.user.is_superuser
    assert staff.user.email == "boss@example.com"


def test_a_merchant_with_an_unknown_referral_code_gets_400(merchant):
    response = _ask(merchant, "new@example.com", referral_code="NOPE1234")
    assert response.status_code == 400 and "referral_code" in response.json()
    assert not User.objects.filter(email="new@example.com").exists()


def test_rewards_a_merchant_hears_of_carry_no_memo(merchant, anna):
    _linked(merchant, anna)
    settled_points(anna, 10)
    events = WebhookEvent.objects.filter(partner=merchant.partner)
    assert not events.exists()  # posted at once: nothing pending settled
    ledger.points_award(
        customer=anna,
        points=7,
        kind=Transaction.Kind.EARN,
        memo="Order SHOP-99 elsewhere",
        settles_at=timezone.now() - dt.timedelta(seconds=1),
    )
    ledger.settle_due()
    (event,) = WebhookEvent.objects.filter(partner=merchant.partner, type="reward.settled")
    assert event.data["memo"] == "" and event.data["points"] == 7


def test_create_partner_makes_a_merchant_unless_told(capsys):
    call_command("create_partner", "Bakery")
    call_command("create_partner", "Our shop", "--kind", "own")
    assert Partner.objects.get(name="Bakery").kind == Partner.Kind.MERCHANT
    assert Partner.objects.get(name="Our shop").kind == Partner.Kind.OWN


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("answer", ["yes", "no"])
def test_the_persons_answer_by_email_through_a_real_worker(
    answer, celery_worker, smtp_sink, client
):
    member = CustomerFactory(email="anna@example.com")
    merchant = PartnerClient(PartnerFactory(name="Corner bakery", kind=Partner.Kind.MERCHANT))
    assert _ask(merchant, "anna@example.com").status_code == 202
    wait_for(lambda: smtp_sink.messages, timeout=60)
    (message,) = smtp_sink.messages
    assert message["To"] == "anna@example.com" and "Corner bakery" in message["Subject"]
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    url = re.search(r"http://\S+/partner-links/\S+/", text.get_payload(decode=True).decode())
    path = "/" + url.group(0).split("://", 1)[1].split("/", 1)[1]
    assert client.get(path).status_code == 200
    assert client.post(path, {"answer": answer}).status_code == 200
    shown = merchant.get(f"/api/v1/customers/{member.public_id}/")
    if answer == "yes":
        assert shown.json()["link"] == "active" and "points" in shown.json()
    else:
        assert shown.status_code == 404


def test_staff_set_a_partners_kind_in_the_admin(client):
    partner = PartnerFactory(kind=Partner.Kind.MERCHANT)
    root = User.objects.create_superuser(email="root@example.com", password="x-Unused-42")
    login_with_second_factor(client, root)
    page = client.get(reverse("admin:partners_partner_change", args=[partner.pk]))
    assert 'name="kind"' in page.content.decode()
    response = client.post(
        reverse("admin:partners_partner_change", args=[partner.pk]),
        {"name": partner.name, "kind": "own", "active": "on",
         "webhook_secret": partner.webhook_secret, "api_keys-TOTAL_FORMS": "0",
         "api_keys-INITIAL_FORMS": "0"},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    partner.refresh_from_db()
    assert partner.kind == Partner.Kind.OWN


def test_staff_cannot_add_a_link_or_point_one_at_another_customer(client, merchant, anna):
    _linked(merchant, anna)
    link = PartnerCustomer.objects.get(partner=merchant.partner)
    other = CustomerFactory()
    root = User.objects.create_superuser(email="root@example.com", password="x-Unused-42")
    login_with_second_factor(client, root)
    assert client.get(reverse("admin:partners_partnercustomer_add")).status_code == 403
    response = client.post(
        reverse("admin:partners_partnercustomer_change", args=[link.pk]),
        {"external_id": "m-1", "customer": other.pk, "partner": PartnerFactory().pk},
    )
    assert response.status_code == 302
    link.refresh_from_db()
    assert (link.customer_id, link.partner_id) == (anna.pk, merchant.partner.pk)


def test_looking_up_an_external_id_finds_only_this_partners_own(shop, merchant, anna):
    _linked(merchant, anna)
    PartnerCustomer.objects.filter(partner=merchant.partner).update(external_id="shop-anna-2")
    assert shop.get("/api/v1/customers/?external_id=shop-anna").json()["count"] == 1
    # The merchant's own id for Anna is another; the shop's id finds nobody for it.
    assert merchant.get("/api/v1/customers/?external_id=shop-anna").json()["count"] == 0
    assert merchant.get("/api/v1/customers/?external_id=shop-anna-2").json()["count"] == 1


def test_a_no_to_a_new_request_leaves_purchases_of_an_earlier_link_alone(
    merchant, anna, client, tasks_inline, django_capture_on_commit_callbacks
):
    rule = earn_rule()
    rule.hold_days = 14
    rule.save()
    _linked(merchant, anna)
    bought = merchant.post(
        "/api/v1/conversions/",
        {"customer": str(anna.public_id), "order_id": "BAKE-OLD", "amount": "20.00",
         "currency": "EUR"},
    )  # fmt: skip
    assert bought.status_code == 201, bought.content
    earlier = Transaction.objects.get(cause="conversion", memo__contains="BAKE-OLD")
    assert earlier.status == Transaction.Status.PENDING
    assert merchant.post(f"/api/v1/customers/{anna.public_id}/redact/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert _ask(merchant, "anna@example.com", "m-2").status_code == 202
    assert _answer(client, mail.outbox[-1], "no").status_code == 200
    earlier.refresh_from_db()
    assert earlier.status == Transaction.Status.PENDING
