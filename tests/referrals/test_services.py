from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from customers.conversions import conversion_refund
from customers.models import Connection, Customer, User
from customers.privacy import customer_erase, personal_data_sections
from customers.selectors import referral_url
from loyalty import ledger
from loyalty.models import Reward, Transaction, Voucher
from loyalty.selectors import balance
from referrals.invitations import invitations_create
from referrals.models import DisposableDomain, Referral, ReferralProgram
from referrals.rules import email_canonical
from referrals.selectors import (
    friend_offer,
    program_active,
    referrer_by_code,
    referrer_code_subquery,
)
from referrals.services import (
    ReviewError,
    UnknownReferralCode,
    referral_attribute,
    referral_conversion_qualify,
    referral_conversion_refund,
    referral_review,
)
from referrals.signals import referral_qualified
from tests.factories import CustomerFactory, purchase
from tests.referrals.factories import active_program

pytestmark = pytest.mark.django_db


def _referred_by(customer: Customer) -> str | None:
    """What the partner API shows as `referred_by` (read through the same subquery)."""
    return (
        Customer.objects.filter(pk=customer.pk)
        .values_list(referrer_code_subquery(), flat=True)
        .get()
    )


@pytest.fixture
def anna():
    return CustomerFactory(email="anna@example.com", first_name="Anna")


@pytest.fixture
def ben():
    return CustomerFactory(email="ben@example.com", first_name="Ben")


def _attribute(referee, referrer, source=Referral.Source.LINK):
    return referral_attribute(customer=referee, code=referrer.referral_code, source=source)


def test_default_program_matches_the_partner_contract():
    program = program_active()
    assert program.qualifying_event == ReferralProgram.QualifyingEvent.PURCHASE
    assert program.minimum_purchase == 0
    assert program.hold_days == 14
    assert program.referrer_points > 0 and program.friend_points > 0
    assert friend_offer() == program.friend_offer != ""


@pytest.mark.parametrize(
    ("address", "canonical"),
    [
        ("Anna@Example.com", "anna@example.com"),
        ("anna+shop@example.com", "anna@example.com"),
        ("a.n.na+x@GoogleMail.com", "anna@gmail.com"),
        ("a.nna@example.com", "a.nna@example.com"),
    ],
)
def test_email_canonical_form(address, canonical):
    assert email_canonical(address) == canonical


def test_referrer_by_code_ignores_case_and_inactive_users(anna):
    assert referrer_by_code(code=anna.referral_code.lower()) == anna
    assert referrer_by_code(code="") is None
    User.objects.filter(pk=anna.user_id).update(is_active=False)
    assert referrer_by_code(code=anna.referral_code) is None


def test_referral_url_is_absolute(anna, settings):
    settings.SITE_URL = "https://portal.example.com"
    assert referral_url(customer=anna) == f"https://portal.example.com/r/{anna.referral_code}/"


def test_attribution_makes_them_friends_and_never_changes(anna, ben):
    referral = _attribute(ben, anna)
    assert referral.status == Referral.Status.PENDING
    assert referral.referrer == anna
    assert _referred_by(ben) == anna.referral_code
    assert Connection.objects.get().status == Connection.Status.CONFIRMED

    carla = CustomerFactory()
    again = _attribute(ben, carla)
    assert again.pk == referral.pk and again.referrer == anna
    assert Referral.objects.count() == 1


def test_unknown_code_raises(ben):
    with pytest.raises(UnknownReferralCode):
        referral_attribute(customer=ben, code="NOPE0000", source=Referral.Source.PARTNER)


def test_own_code_is_no_referral(anna):
    assert _attribute(anna, anna) is None
    assert not Referral.objects.exists()
    assert _referred_by(anna) is None


def test_same_mailbox_is_rejected_as_self_referral(anna):
    twin = CustomerFactory(email="Anna+second@example.com")
    referral = _attribute(twin, anna)
    assert referral.status == Referral.Status.REJECTED
    assert "Self-referral" in referral.reason
    assert _referred_by(twin) is None
    assert not Connection.objects.exists()
    assert referral_conversion_qualify(conversion=purchase(twin)) is None


def test_disposable_domain_is_held_for_review(anna):
    DisposableDomain.objects.get_or_create(domain="mailinator.com")
    throwaway = CustomerFactory(email="x@mailinator.com")
    referral = _attribute(throwaway, anna)
    assert referral.status == Referral.Status.REVIEW
    assert "disposable" in referral.reason
    assert referral_conversion_qualify(conversion=purchase(throwaway)) is None


def test_first_purchase_qualifies_with_pending_rewards(anna, ben):
    program = program_active()
    _attribute(ben, anna)
    received = []

    def listener(sender, referral, **kwargs):
        received.append(referral)

    referral_qualified.connect(listener)
    try:
        referral = referral_conversion_qualify(conversion=purchase(ben, "1.00"))
    finally:
        referral_qualified.disconnect(listener)
    assert referral.status == Referral.Status.QUALIFIED
    assert received == [referral]
    reward = referral.reward_transaction
    assert referral.referrer == anna
    assert reward.status == Transaction.Status.PENDING
    assert reward.kind == Transaction.Kind.REFERRAL_REWARD
    expected = timezone.now() + timedelta(days=program.hold_days)
    assert abs(reward.settles_at - expected) < timedelta(minutes=1)
    assert balance(customer=anna).pending == program.referrer_points
    assert balance(customer=ben).pending == program.friend_points
    assert balance(customer=anna).settled == 0


def test_qualifying_twice_grants_once(anna, ben):
    _attribute(ben, anna)
    conversion = purchase(ben)
    first = referral_conversion_qualify(conversion=conversion)
    second = referral_conversion_qualify(conversion=conversion)
    assert first.reward_transaction == second.reward_transaction
    assert referral_conversion_qualify(conversion=purchase(ben)) is None
    assert Transaction.objects.count() == 2


def test_purchase_without_referral_or_below_minimum_does_not_qualify(anna, ben):
    assert referral_conversion_qualify(conversion=purchase(ben)) is None
    active_program(minimum_purchase="50.00", minimum_currency="EUR")
    _attribute(ben, anna)
    assert referral_conversion_qualify(conversion=purchase(ben, "49.99")) is None
    assert referral_conversion_qualify(conversion=purchase(ben, "60.00", "USD")) is None
    assert referral_conversion_qualify(conversion=purchase(ben, "50.00")) is not None


def test_purchase_after_the_attribution_window_does_not_qualify(anna, ben):
    active_program(attribution_window_days=30)
    _attribute(ben, anna)
    late = purchase(ben, occurred_at=timezone.now() + timedelta(days=31))
    assert referral_conversion_qualify(conversion=late) is None
    assert Referral.objects.get().status == Referral.Status.PENDING


def test_signup_program_qualifies_at_attribution(anna, ben):
    active_program(qualifying_event=ReferralProgram.QualifyingEvent.SIGNUP)
    referral = _attribute(ben, anna)
    assert referral.status == Referral.Status.QUALIFIED
    assert referral.conversion is None
    assert balance(customer=anna).pending > 0


def test_monthly_cap_holds_the_referral_and_staff_approval_overrides(anna, ben):
    active_program(max_rewarded_per_month=1)
    staff = User.objects.create_user(email="staff@example.com", is_staff=True)
    _attribute(ben, anna)
    referral_conversion_qualify(conversion=purchase(ben))
    carla = CustomerFactory()
    _attribute(carla, anna)
    assert referral_conversion_qualify(conversion=purchase(carla)) is None
    held = Referral.objects.get(referee=carla)
    assert held.status == Referral.Status.REVIEW and "cap" in held.reason

    approved = referral_review(referral=held, approve=True, staff=staff, reason="Known regular.")
    assert approved.status == Referral.Status.QUALIFIED
    assert approved.reviewed_by == staff
    with pytest.raises(ReviewError):
        referral_review(referral=held, approve=False, staff=staff, reason="Too late.")


def test_rejection_is_final_and_needs_a_reason(anna):
    DisposableDomain.objects.get_or_create(domain="yopmail.com")
    throwaway = CustomerFactory(email="x@yopmail.com")
    held = _attribute(throwaway, anna)
    staff = User.objects.create_user(email="staff@example.com", is_staff=True)
    with pytest.raises(ReviewError):
        referral_review(referral=held, approve=False, staff=staff, reason=" ")
    rejected = referral_review(referral=held, approve=False, staff=staff, reason="Throwaway.")
    assert rejected.status == Referral.Status.REJECTED and rejected.reason == "Throwaway."
    with pytest.raises(ReviewError):
        referral_review(referral=held, approve=True, staff=staff, reason="Oops.")
    assert not Transaction.objects.exists()


def test_settlement_marks_the_referral_rewarded(anna, ben):
    _attribute(ben, anna)
    referral = referral_conversion_qualify(conversion=purchase(ben))
    ledger.settle_due(as_of=timezone.now() + timedelta(days=15))
    referral.refresh_from_db()
    assert referral.status == Referral.Status.REWARDED and referral.rewarded_at
    assert balance(customer=anna).settled == referral.program.referrer_points


def test_refund_before_settlement_voids_both_rewards(anna, ben):
    _attribute(ben, anna)
    conversion = purchase(ben)
    referral = referral_conversion_qualify(conversion=conversion)
    referral_conversion_refund(conversion=conversion_refund(conversion=conversion))
    referral.refresh_from_db()
    assert referral.status == Referral.Status.REJECTED
    assert referral.reward_transaction.status == Transaction.Status.VOIDED
    assert referral.friend_transaction.status == Transaction.Status.VOIDED
    assert balance(customer=anna).pending == balance(customer=ben).pending == 0


def test_refund_after_settlement_reverses_and_writes_off_what_was_spent(anna, ben):
    _attribute(ben, anna)
    conversion = purchase(ben)
    referral = referral_conversion_qualify(conversion=conversion)
    ledger.settle_due(as_of=timezone.now() + timedelta(days=15))
    ledger.points_spend(customer=anna, points=100, sink="redemptions", kind="redeem", memo="Mug")
    refunded = conversion_refund(conversion=conversion)
    referral_conversion_refund(conversion=refunded)
    referral_conversion_refund(conversion=refunded)
    assert balance(customer=anna).settled == 0
    assert balance(customer=ben).settled == 0
    reversals = Transaction.objects.filter(kind=Transaction.Kind.REVERSAL)
    assert reversals.count() == 2
    assert set(reversals.values_list("reverses", flat=True)) == {
        referral.reward_transaction_id,
        referral.friend_transaction_id,
    }


def test_partial_refund_keeps_rewards_while_the_minimum_is_still_met(anna, ben):

    active_program(minimum_purchase="20.00")
    _attribute(ben, anna)
    conversion = purchase(ben, "50.00")
    referral = referral_conversion_qualify(conversion=conversion)
    kept = conversion_refund(conversion=conversion, amount=Decimal("10.00"))
    referral_conversion_refund(conversion=kept)
    referral.reward_transaction.refresh_from_db()
    assert referral.reward_transaction.status == Transaction.Status.PENDING
    below = conversion_refund(conversion=conversion, amount=Decimal("25.00"))
    referral_conversion_refund(conversion=below)
    referral.reward_transaction.refresh_from_db()
    assert referral.reward_transaction.status == Transaction.Status.VOIDED


def test_refund_of_another_purchase_changes_nothing(anna, ben):
    _attribute(ben, anna)
    referral = referral_conversion_qualify(conversion=purchase(ben))
    other = purchase(ben)
    referral_conversion_refund(conversion=conversion_refund(conversion=other))
    referral.reward_transaction.refresh_from_db()
    assert referral.reward_transaction.status == Transaction.Status.PENDING


def test_erasure_forgets_invitation_addresses_and_export_lists_referrals(anna, ben):

    invitations_create(sender=anna, addresses="friend@example.org", note="Hi")
    _attribute(ben, anna)
    (section,) = [s for s in personal_data_sections(customer=anna) if s.name == "referrals"]
    assert section.records["invitations_sent"][0]["email"] == "friend@example.org"
    assert section.records["friends_referred"][0]["friend"] == ben.name

    customer_erase(customer=anna, source="customer")
    (invitation,) = anna.invitations.all()
    assert invitation.email == invitation.note == ""
    assert invitation.status == invitation.Status.CANCELLED
    assert Referral.objects.get().referrer == anna
    assert referrer_by_code(code=anna.referral_code) is None


def test_catalog_reward_as_friend_gift_is_issued_once_and_voided_on_refund(anna, ben):

    mug = Reward.objects.create(name="Mug", kind="free_product", points_cost=300, stock=1)
    active_program(friend_reward=mug, friend_points=0)
    _attribute(ben, anna)
    conversion = purchase(ben)
    referral = referral_conversion_qualify(conversion=conversion)
    assert (
        referral_conversion_qualify(conversion=conversion).friend_voucher == referral.friend_voucher
    )
    assert referral.friend_transaction is None
    voucher = referral.friend_voucher
    assert voucher.customer == ben and voucher.reward == mug
    assert Voucher.objects.count() == 1
    mug.refresh_from_db()
    assert mug.stock == 0

    referral_conversion_refund(conversion=conversion_refund(conversion=conversion))
    voucher.refresh_from_db()
    assert voucher.status == Voucher.Status.VOID


def test_an_out_of_stock_friend_reward_does_not_block_the_referral(anna, ben):

    mug = Reward.objects.create(name="Mug", kind="free_product", points_cost=300, stock=0)
    active_program(friend_reward=mug)
    _attribute(ben, anna)
    referral = referral_conversion_qualify(conversion=purchase(ben))
    assert referral.status == Referral.Status.QUALIFIED and referral.friend_voucher is None
    assert balance(customer=ben).pending == referral.program.friend_points


def test_only_one_program_can_be_switched_on(anna):

    second = ReferralProgram(
        name="Summer", is_active=True, starts_at=timezone.now(), friend_offer="A gift"
    )
    with pytest.raises(ValidationError) as error:
        second.full_clean()
    assert "is_active" in error.value.message_dict
    second.is_active = False
    second.ends_at = second.starts_at - timedelta(days=1)
    with pytest.raises(ValidationError) as error:
        second.full_clean()
    assert "ends_at" in error.value.message_dict
