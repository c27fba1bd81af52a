"""The customer's pages write a date one way, and never one a reader can take for another."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from loyalty.ledger import points_award
from loyalty.models import Transaction
from referrals.invitations import invitations_create
from referrals.models import Invitation
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

# The 4th of March: "03/04/2026" would read as the 3rd of April in most of the world.
MOMENT = datetime(2026, 3, 4, 12, tzinfo=UTC)
NUMERIC_DATE = re.compile(r"\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b")


def test_dashboard_invitations_and_history_show_the_same_unambiguous_date(client):
    customer = CustomerFactory()
    points_award(customer=customer, points=50, kind="earn", memo="Order A-1")
    invitations_create(sender=customer, addresses="friend@example.org", note="")
    Transaction.objects.update(created_at=MOMENT)
    Invitation.objects.update(queued_at=MOMENT)
    client.force_login(customer.user)
    for path in ["/me/dashboard/", "/me/invite/", "/me/rewards/history/"]:
        page = client.get(path).content.decode()
        assert "March 4, 2026" in page, path
        assert not NUMERIC_DATE.findall(page), path
