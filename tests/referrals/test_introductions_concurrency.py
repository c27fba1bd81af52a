"""Staff racing on one introduction, with real threads and commits (PostgreSQL locks rows)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from loyalty.audit import ledger_audit
from loyalty.models import Transaction
from loyalty.selectors import balance
from referrals.introductions import IntroductionError, introduction_move
from referrals.models import Introduction
from tests.loyalty.helpers import run_in_threads
from tests.referrals.factories import active_program, introducer, introduction_said_yes

pytestmark = pytest.mark.django_db(transaction=True)


def _staff(count: int) -> list:
    return [
        get_user_model().objects.create_user(email=f"sales{n}@example.com", is_staff=True)
        for n in range(count)
    ]


def test_two_staff_moving_one_introduction_to_won_at_once_post_one_reward():
    active_program(introduction_points=800)
    anna = introducer()
    introduction = introduction_said_yes(anna)
    staff = _staff(2)
    results = run_in_threads(
        2,
        lambda i: introduction_move(
            introduction_id=introduction.pk, to_status="won", staff=staff[i], note=f"Sold {i}"
        ),
    )
    moved = [r for r in results if isinstance(r, Introduction)]
    refused = [r for r in results if isinstance(r, IntroductionError)]
    assert (len(moved), len(refused)) == (1, 1), results
    assert "already" in str(refused[0])
    assert Transaction.objects.filter(cause="introduction").count() == 1
    assert balance(customer=anna).pending == 800
    assert introduction.moves.count() == 1
    assert ledger_audit().clean


def test_won_and_lost_racing_leave_the_books_matching_the_stage():
    """Whichever commits second sees the first's reward: a lost after a won takes it back."""
    active_program(introduction_points=800)
    staff = _staff(2)
    for round_ in range(6):
        anna = introducer()
        introduction = introduction_said_yes(anna, friend_email=f"ben{round_}@example.org")
        introduction_move(
            introduction_id=introduction.pk, to_status="talking", staff=staff[0], note="x"
        )
        results = run_in_threads(
            2,
            lambda i, pk=introduction.pk: introduction_move(
                introduction_id=pk,
                to_status="won" if i == 0 else "lost",
                staff=staff[i],
                note="race",
            ),
        )
        assert not [r for r in results if not isinstance(r, Introduction)], results
        introduction.refresh_from_db()
        held = balance(customer=anna).pending
        assert held == (800 if introduction.status == "won" else 0), (round_, introduction.status)
    assert ledger_audit().clean
