"""Staff tools: adjustments with approval, reversal with a reason, the write-off list, campaigns."""

import pytest
from django.urls import reverse

from loyalty import ledger, tasks
from loyalty.adjustments import AdjustmentError, adjustment_decide, adjustment_request
from loyalty.audit import ledger_audit
from loyalty.models import AdjustmentRequest, GiftCampaign, Transaction
from loyalty.selectors import balance
from loyalty.vouchers import reward_redeem
from tests.factories import PASSWORD, CustomerFactory
from tests.loyalty.factories import RewardFactory, settled_points
from tests.support import login_with_second_factor

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_superuser(email="sam@example.com", password=PASSWORD)


@pytest.fixture
def second_staff(django_user_model):
    return django_user_model.objects.create_superuser(email="kim@example.com", password=PASSWORD)


@pytest.fixture
def staff_client(client, staff):
    login_with_second_factor(client, staff)
    return client


def test_small_adjustment_posts_at_once_with_reason_and_staff_member(staff, settings):
    settings.LOYALTY_ADJUSTMENT_APPROVAL_THRESHOLD = 100
    anna = CustomerFactory()
    adjustment = adjustment_request(customer=anna, points=100, reason="Lost card", actor=staff)
    txn = adjustment.transaction
    assert adjustment.status == AdjustmentRequest.Status.POSTED
    assert (txn.kind, txn.created_by, txn.reason) == ("adjust", staff, "Lost card")
    assert balance(customer=anna).settled == 100
    adjustment_request(customer=anna, points=-40, reason="Double credit", actor=staff)
    assert balance(customer=anna).settled == 60
    assert ledger_audit().clean


def test_large_adjustment_waits_for_a_second_staff_member(staff, second_staff, settings):
    settings.LOYALTY_ADJUSTMENT_APPROVAL_THRESHOLD = 100
    anna = CustomerFactory()
    adjustment = adjustment_request(customer=anna, points=101, reason="Goodwill", actor=staff)
    assert adjustment.status == AdjustmentRequest.Status.PENDING
    assert balance(customer=anna).settled == 0
    with pytest.raises(AdjustmentError, match="second staff member"):
        adjustment_decide(adjustment=adjustment, actor=staff, approve=True)
    decided = adjustment_decide(adjustment=adjustment, actor=second_staff, approve=True)
    assert (decided.status, decided.decided_by, decided.transaction.created_by) == (
        "posted",
        second_staff,
        second_staff,
    )
    assert balance(customer=anna).settled == 101
    with pytest.raises(AdjustmentError, match="already decided"):
        adjustment_decide(adjustment=adjustment, actor=second_staff, approve=False)


def test_rejected_adjustment_posts_nothing(staff, second_staff, settings):
    settings.LOYALTY_ADJUSTMENT_APPROVAL_THRESHOLD = 0
    anna = CustomerFactory()
    adjustment = adjustment_request(customer=anna, points=5, reason="Goodwill", actor=staff)
    adjustment_decide(adjustment=adjustment, actor=second_staff, approve=False)
    assert not Transaction.objects.exists()


@pytest.mark.parametrize(
    "points, reason, error",
    [(10, "  ", AdjustmentError), (0, "x", AdjustmentError), (-1, "x", ledger.InsufficientPoints)],
    ids=["no-reason", "zero", "below-zero"],
)
def test_bad_adjustments_record_nothing(staff, points, reason, error):
    with pytest.raises(error):
        adjustment_request(customer=CustomerFactory(), points=points, reason=reason, actor=staff)
    assert not AdjustmentRequest.objects.exists() and not Transaction.objects.exists()


def test_adjustment_admin_form_posts_and_refuses_without_reason(staff_client, staff):
    anna = CustomerFactory()
    url = reverse("admin:loyalty_adjustmentrequest_add")
    refused = staff_client.post(url, {"customer": anna.pk, "points": 50, "reason": ""})
    assert refused.status_code == 200 and b"This field is required" in refused.content
    too_much = staff_client.post(url, {"customer": anna.pk, "points": -5, "reason": "Oops"})
    assert b"fewer settled points" in too_much.content
    assert not AdjustmentRequest.objects.exists()
    response = staff_client.post(url, {"customer": anna.pk, "points": 50, "reason": "Birthday"})
    assert response.status_code == 302
    assert AdjustmentRequest.objects.get().requested_by == staff
    assert balance(customer=anna).settled == 50


def test_approve_action_refuses_the_requester_and_posts_for_another(
    client, staff, second_staff, settings
):
    settings.LOYALTY_ADJUSTMENT_APPROVAL_THRESHOLD = 10
    anna = CustomerFactory()
    adjustment = adjustment_request(customer=anna, points=500, reason="Complaint", actor=staff)
    changelist = reverse("admin:loyalty_adjustmentrequest_changelist")
    form = {"action": "approve", "_selected_action": [adjustment.pk]}
    login_with_second_factor(client, staff)
    client.post(changelist, form)
    assert balance(customer=anna).settled == 0
    login_with_second_factor(client, second_staff)
    client.post(changelist, form)
    assert balance(customer=anna).settled == 500


def test_reverse_action_asks_for_a_reason_then_reverses_and_lists_write_offs(staff_client):
    anna = CustomerFactory()
    earned = settled_points(anna, 100)
    ledger.points_spend(customer=anna, points=30, kind="redeem", memo="x", sink="redemptions")
    changelist = reverse("admin:loyalty_transaction_changelist")
    form = {"action": "reverse_with_reason", "_selected_action": [earned.pk]}
    asked = staff_client.post(changelist, form)
    assert asked.status_code == 200 and b"Reason" in asked.content
    assert not Transaction.objects.filter(kind="reversal").exists()
    staff_client.post(changelist, {**form, "reason": "Fraudulent order"})
    reversal = Transaction.objects.get(kind="reversal")
    assert (reversal.reason, reversal.created_by.email) == ("Fraudulent order", "sam@example.com")
    assert balance(customer=anna).settled == 0
    listed = staff_client.get(changelist, {"written_off": "yes"})
    assert str(reversal.public_id) in listed.content.decode()
    assert str(earned.public_id) not in listed.content.decode()


def test_gift_campaign_admin_form_queues_the_campaign(
    staff_client, staff, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(tasks.ledger_gift_campaign_run, "delay", queued.append)
    anna = CustomerFactory()
    url = reverse("admin:loyalty_giftcampaign_add")
    incomplete = staff_client.post(url, {"name": "Thanks", "points": 10, "segment": "tier"})
    assert b"Required for this choice" in incomplete.content
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            url,
            {"name": "Thanks", "points": 10, "segment": "one_customer", "customer": anna.pk},
        )
    assert response.status_code == 302
    campaign = GiftCampaign.objects.get()
    assert campaign.created_by == staff
    assert queued == [campaign.pk]
    listed = staff_client.get(reverse("admin:loyalty_giftcampaign_changelist"))
    assert b"0 / 0" in listed.content


def test_cancel_voucher_action_asks_for_a_reason_and_refunds(staff_client):
    anna = CustomerFactory()
    settled_points(anna, 100)
    voucher = reward_redeem(customer=anna, reward=RewardFactory(points_cost=100)).voucher
    changelist = reverse("admin:loyalty_voucher_changelist")
    form = {"action": "cancel_and_refund", "_selected_action": [voucher.pk]}
    assert b"Reason" in staff_client.post(changelist, form).content
    staff_client.post(changelist, {**form, "reason": "Customer asked"})
    voucher.refresh_from_db()
    assert (voucher.status, voucher.void_reason) == ("void", "Customer asked")
    assert balance(customer=anna).settled == 100
    again = staff_client.post(changelist, {**form, "reason": "twice"}, follow=True)
    assert b"Void" in again.content and balance(customer=anna).settled == 100
