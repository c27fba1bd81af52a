"""Reads of customers and friends lists that several pages need."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q
from django.urls import reverse

from customers.models import Connection, Customer


@dataclass(frozen=True)
class FriendsList:
    confirmed: list[Connection]
    incoming: list[Connection]
    outgoing: list[Connection]


def friends_list(*, customer: Customer) -> FriendsList:
    """The customer's connections by state, each with `.friend`: the other customer."""
    connections = (
        Connection.objects.filter(Q(requester=customer) | Q(addressee=customer))
        .exclude(status=Connection.Status.DECLINED)
        .select_related("requester__user", "addressee__user")
    )
    confirmed, incoming, outgoing = [], [], []
    for connection in connections:
        connection.friend = connection.other(customer)
        if connection.status == Connection.Status.CONFIRMED:
            confirmed.append(connection)
        elif connection.addressee_id == customer.pk:
            incoming.append(connection)
        else:
            outgoing.append(connection)
    return FriendsList(confirmed=confirmed, incoming=incoming, outgoing=outgoing)


def friends_of(*, customer: Customer) -> list[Customer]:
    """The customers on one's confirmed friends list."""
    return [c.friend for c in friends_list(customer=customer).confirmed]


def customer_by_email(email: str) -> Customer | None:
    return Customer.objects.select_related("user").filter(user__email__iexact=email).first()


def referral_url(*, customer: Customer) -> str:
    """The absolute address of the customer's referral link (served by the referrals app).

    Here, at the bottom, because the referral code is the customer's and every app above
    shows the link: the dashboard, the partner API, the survey's thanks to a promoter.
    """
    return settings.SITE_URL + reverse("referrals:landing", args=[customer.referral_code])
