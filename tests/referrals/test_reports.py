"""The staff funnel: every step counts a subset of the step before it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from referrals.invitations import invitation_send, invitations_create
from referrals.reports import funnel, link_visits
from referrals.services import link_visit_count, referral_attribute, referral_conversion_qualify
from tests.factories import CustomerFactory, purchase

pytestmark = pytest.mark.django_db


def _steps() -> dict[str, int]:
    now = timezone.now()
    return {
        step.key: step.count
        for step in funnel(start=now - timedelta(days=1), end=now + timedelta(days=1))
    }


def test_funnel_steps_are_each_a_subset_of_the_one_before():
    anna = CustomerFactory()
    invited = invitations_create(
        sender=anna, addresses=" ".join(f"f{i}@example.org" for i in range(5)), note=""
    ).invited
    for invitation in invited:
        invitation_send(invitation_id=invitation.pk)
    # One invited friend joins through the invitation, two others through the plain link.
    ben = CustomerFactory(email="f0@example.org")
    referral_attribute(
        customer=ben, code=anna.referral_code, source="invitation", invitation_id=invited[0].pk
    )
    for _ in range(2):
        linked = CustomerFactory()
        referral_attribute(customer=linked, code=anna.referral_code, source="link")
    referral_conversion_qualify(conversion=purchase(ben))

    steps = _steps()
    assert list(steps) == ["reached", "joined", "converted", "rewarded"]
    assert steps["reached"] == 5 + 2 and steps["joined"] == 3 and steps["converted"] == 1
    counts = list(steps.values())
    assert counts == sorted(counts, reverse=True)


def test_funnel_does_not_claim_to_measure_opened_emails():
    assert "opened" not in _steps()


def test_link_visits_are_reported_beside_the_funnel():
    anna = CustomerFactory()
    link_visit_count(referrer=anna)
    now = timezone.now()
    assert link_visits(start=now - timedelta(days=1), end=now + timedelta(days=1)) == 1
