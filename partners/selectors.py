"""Reads scoped to one partner: a partner sees only the customers linked to it."""

from __future__ import annotations

from django.db.models import F, QuerySet, Value
from django.db.models.functions import Coalesce

from customers.models import Customer
from partners.models import Partner


def partner_customers(*, partner: Partner) -> QuerySet[Customer]:
    """The customers this partner created or linked, each with `external_id` and points.

    Every endpoint that takes a customer id reads through this queryset, so a
    customer of another partner is simply not found (404).
    """
    return (
        Customer.objects.filter(partner_links__partner=partner)
        .select_related("user")
        .annotate(
            external_id=F("partner_links__external_id"),
            points_balance=Coalesce(F("points_account__settled_balance"), Value(0)),
            points_pending=Coalesce(F("points_account__pending_balance"), Value(0)),
        )
        .order_by("-partner_links__created_at", "-pk")
    )
