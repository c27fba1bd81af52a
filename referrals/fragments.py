"""Cached fragments of a customer's invitations and what came of them (the invite page's
counts and list, the dashboard's suggestion), built afresh whenever one of them changes.

The services that change an invitation, a referral or a link visit drop the version of the
customer who sent, referred or shared it; staff only read these rows in the admin.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db.models import QuerySet

from core.fragments import fragment_version_drop, fragment_versions
from customers.models import Customer
from referrals.models import Invitation

# Time passing drops nothing: an invitation's "Resend" appears up to this many seconds after
# its cool-down ends (the service refuses it before, never after).
INVITATIONS_FRAGMENT_SECONDS = 300


def invitations_name(customer_id: int) -> str:
    """The name of the customer's invitations version (a page keyed on several reads them in
    one round trip with `fragment_versions`)."""
    return f"invitations:{customer_id}"


def invitations_version(*, customer: Customer) -> str:
    """The version of the customer's invitations, referrals and link visits that pages key
    their fragments on."""
    return fragment_versions(invitations_name(customer.pk))


def invitations_changed(*customer_ids: int) -> None:
    """The invitations, referrals or link visits of these customers changed: once the change
    commits, their fragments are built afresh."""
    fragment_version_drop(*map(invitations_name, customer_ids))


@contextmanager
def invitations_changing(invitations: QuerySet[Invitation]) -> Iterator[None]:
    """Around a set-based write to `invitations`: their senders' fragments are built afresh
    after it (the senders are read before, as the write may move rows out of the set)."""
    senders = list(invitations.order_by().values_list("sender_id", flat=True).distinct())
    yield
    invitations_changed(*senders)
