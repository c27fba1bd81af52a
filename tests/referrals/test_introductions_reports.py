"""The staff dashboard's figures on introductions: per status, per contact person, and the
time from the friend's yes to staff's first move."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from referrals.introductions import introduction_move
from referrals.models import Introduction
from referrals.reports import introduction_figures
from tests.referrals.factories import active_program, introducer, introduction_said_yes

pytestmark = pytest.mark.django_db


@pytest.fixture
def worked_introductions():
    active_program()
    staff = get_user_model().objects.create_user(email="sales@example.com", is_staff=True)
    anna = introducer()
    fast, slow, _waiting = (
        introduction_said_yes(anna, friend_email=f"{name}@example.org")
        for name in ("fast", "slow", "waiting")
    )
    now = timezone.now()
    for introduction, hours in ((fast, 2), (slow, 30)):
        Introduction.objects.filter(pk=introduction.pk).update(
            answered_at=now - timedelta(hours=hours)
        )
        introduction_move(
            introduction_id=introduction.pk, to_status="talking", staff=staff, note="Hi"
        )
    introduction_move(introduction_id=fast.pk, to_status="won", staff=staff, note="Sold")
    return anna


def test_figures_per_status_contact_person_and_time_to_first_reply(worked_introductions):
    now = timezone.now()
    figures = introduction_figures(start=now - timedelta(days=1), end=now + timedelta(days=1))
    by_stage = dict(figures.by_stage)
    assert (by_stage["New"], by_stage["Talking"], by_stage["Won"]) == (1, 1, 1)
    assert figures.by_contact == [("Maria Rossi", 3, 1)]
    assert figures.first_reply_median_hours == 16.0
    assert figures.first_reply_max_hours == 30.0
    assert figures.waiting_for_reply == 1
    empty = introduction_figures(start=now - timedelta(days=9), end=now - timedelta(days=8))
    assert empty.first_reply_median_hours is None and empty.by_contact == []


def test_dashboard_and_its_csv_show_them(admin_client, worked_introductions):
    page = admin_client.get(reverse("staff_dashboard")).content.decode()
    assert "Warm introductions" in page
    assert "Time to first reply: 16.0 hours (median), 30.0 hours at most." in page
    assert "<td>Maria Rossi</td><td>3</td><td>1</td>" in page
    response = admin_client.get(reverse("staff_dashboard"), {"format": "csv"})
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert ["introductions_by_contact", "Maria Rossi", "3"] in rows
    assert ["introductions", "Median hours to first reply", "16.0"] in rows
