from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from loyalty import ledger
from loyalty.earning import conversion_earn
from loyalty.models import Account, Tier, Transaction
from loyalty.tiers import (
    customer_tier,
    customer_tier_placed,
    tier_list,
    tier_progress,
    tier_standing,
)
from tests.factories import CustomerFactory, purchase

pytestmark = pytest.mark.django_db


def _earn(customer, points):
    return ledger.points_award(customer=customer, points=points, kind="earn", memo="Purchase")


def _referral(customer):
    return ledger.points_award(
        customer=customer,
        points=500,
        kind=Transaction.Kind.REFERRAL_REWARD,
        memo="Referral",
        source="referral_expense",
    )


def test_new_customer_is_bronze_with_progress_toward_silver():
    anna = CustomerFactory()
    progress = tier_progress(customer=anna)
    assert customer_tier(customer=anna).name == "Bronze"
    assert (progress.next_tier.name, progress.points_to_next, progress.percent) == (
        "Silver",
        1000,
        0,
    )


def test_points_earned_reach_silver_and_gold():
    anna = CustomerFactory()
    _earn(anna, 999)
    assert customer_tier(customer=anna).name == "Bronze"
    assert tier_progress(customer=anna).percent == 99
    _earn(anna, 1)
    assert customer_tier(customer=anna).name == "Silver"
    _earn(anna, 4000)
    progress = tier_progress(customer=anna)
    assert (progress.tier.name, progress.next_tier, progress.percent) == ("Gold", None, 100)


def test_points_not_earned_by_purchase_do_not_count():
    anna = CustomerFactory()
    ledger.points_award(customer=anna, points=5000, kind="adjust", memo="Goodwill")
    assert customer_tier(customer=anna).name == "Bronze"


def test_successful_referrals_reach_silver_and_reversed_ones_do_not_count():
    anna = CustomerFactory()
    rewards = [_referral(anna) for _ in range(3)]
    assert customer_tier(customer=anna).name == "Silver"
    ledger.reverse(transaction=rewards[0], reason="refund")
    assert customer_tier(customer=anna).name == "Bronze"
    assert tier_progress(customer=anna).referrals_to_next == 1


def test_reversed_purchase_points_leave_the_tier_count():
    anna = CustomerFactory()
    earned = _earn(anna, 1200)
    ledger.reverse(transaction=earned, points=300, reason="partial refund")
    assert customer_tier(customer=anna).name == "Bronze"


def test_no_tier_when_staff_removed_them_all():
    Tier.objects.all().delete()
    anna = CustomerFactory()
    assert customer_tier(customer=anna) is None
    assert tier_progress(customer=anna).tier is None


def _placed(customer):
    """Whether the account holds a placement a read would trust."""
    account = Account.objects.get(customer=customer)
    fresh = account.tier_fresh_until is not None and account.tier_fresh_until > timezone.now()
    return fresh and account.tier_list_version == tier_list(fresh=True).version


def test_a_placement_is_stored_and_every_change_to_the_standing_clears_it():

    anna = CustomerFactory()
    assert customer_tier_placed(customer=anna).name == "Bronze"
    assert _placed(anna)
    _earn(anna, 1000)
    assert not _placed(anna)
    assert customer_tier_placed(customer=anna).name == "Silver" and _placed(anna)

    ledger.points_award(
        customer=anna,
        points=5,
        kind=Transaction.Kind.REFERRAL_REWARD,
        memo="Referral",
        source="referral_expense",
        settles_at=timezone.now() + timedelta(days=1),
    )
    customer_tier_placed(customer=anna)
    ledger.settle_due(as_of=timezone.now() + timedelta(days=2))
    assert not _placed(anna)
    customer_tier_placed(customer=anna)
    assert _placed(anna)

    pending = ledger.points_award(
        customer=anna,
        points=5,
        kind="earn",
        memo="Held",
        settles_at=timezone.now() + timedelta(days=9),
    )
    customer_tier_placed(customer=anna)
    ledger.void(transaction=pending, reason="Refunded")
    assert not _placed(anna)

    customer_tier_placed(customer=anna)
    silver = Tier.objects.get(name="Silver")
    silver.min_points = 2000
    silver.save()
    assert not _placed(anna)
    assert customer_tier_placed(customer=anna).name == "Bronze"


def test_an_earned_purchase_moves_the_placement_along_as_the_ledger_would_place_it():

    anna = CustomerFactory()
    assert customer_tier_placed(customer=anna).name == "Bronze"
    for amount in ["400.00", "400.00", "400.00"]:
        conversion_earn(conversion=purchase(anna, amount=amount))
        account = Account.objects.get(customer=anna)
        assert account.tier_fresh_until is not None  # no ledger to add up on the next read
        standing = tier_standing(customer=anna)
        assert (account.tier_points, account.tier_referrals) == (
            standing.points,
            standing.referrals,
        )
        assert account.tier == customer_tier(customer=anna)
        # The fewest points reaching a tier not reached yet: below it, no tier list is read.
        following = tier_progress(customer=anna).next_tier
        assert account.tier_next_points == (following.min_points if following else None)
    assert account.tier.name == "Silver" and account.tier_points == 1200

    repeat = purchase(anna, amount="10.00")
    earned = conversion_earn(conversion=repeat)
    assert conversion_earn(conversion=repeat) == earned  # a repeat earns, and moves, nothing
    placed = Account.objects.get(customer=anna).tier_points
    assert placed == 1200 + earned.entries.get(amount__gt=0).amount
    assert placed == tier_standing(customer=anna).points


def test_a_seeded_tier_name_reads_in_the_customers_language_and_a_chosen_one_as_written():
    with translation.override("fr"):
        assert Tier(name="Silver").shown_name == "Argent"
        assert Tier(name="Platin Club").shown_name == "Platin Club"
    with translation.override("de"):
        assert Tier(name="Silver").shown_name == "Silber"


def test_a_tier_saved_makes_placements_stale_without_writing_any_account():
    anna, ben = CustomerFactory(), CustomerFactory()
    _earn(anna, 1200)
    assert customer_tier_placed(customer=anna).name == "Silver"
    assert customer_tier_placed(customer=ben).name == "Bronze"
    silver = Tier.objects.get(name="Silver")
    silver.min_points = 2000
    with CaptureQueriesContext(connection) as queries:
        silver.save()
    accounts = Account._meta.db_table
    assert not any(
        query["sql"].lstrip().upper().startswith("UPDATE") and accounts in query["sql"]
        for query in queries.captured_queries
    )
    assert not _placed(anna) and not _placed(ben)
    assert customer_tier_placed(customer=anna).name == "Bronze"
    assert _placed(anna)
    Tier.objects.filter(name="Silver").delete()
    assert not _placed(anna)
    assert customer_tier_placed(customer=anna).name == "Bronze" and _placed(anna)


def test_an_earn_places_anew_after_a_tier_was_saved():
    anna = CustomerFactory()
    _earn(anna, 1200)
    assert customer_tier_placed(customer=anna).name == "Silver"
    silver = Tier.objects.get(name="Silver")
    silver.min_points = 2000
    silver.save()
    conversion_earn(conversion=purchase(anna, amount="10.00"))
    account = Account.objects.get(customer=anna)
    assert account.tier.name == "Bronze" and _placed(anna)
