"""Recording purchases and their refunds; what they earn is decided by the apps above."""

from __future__ import annotations

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.sql import insert_unless_taken
from customers.models import Conversion, Customer


class DuplicateOrder(Exception):
    """The order was reported before by the same channel."""


class RefundTooLarge(Exception):
    """The refund would exceed what is left of the purchase."""


def conversion_record(
    *,
    customer: Customer,
    channel: str,
    order_id: str,
    amount: Decimal,
    currency: str,
    occurred_at=None,
    subject_slug: str = "",
) -> Conversion:
    """Record a purchase once per channel and order id (the unique constraint decides)."""
    conversion = Conversion(
        customer=customer,
        channel=channel,
        order_id=order_id,
        amount=amount,
        currency=currency.upper(),
        occurred_at=occurred_at or timezone.now(),
        subject_slug=subject_slug,
    )
    if insert_unless_taken(conversion):
        return conversion
    if Conversion.objects.filter(channel=channel, order_id=order_id).exists():
        raise DuplicateOrder(order_id)
    raise IntegrityError("A purchase's unique value is taken.")


def conversion_refund(*, conversion: Conversion, amount: Decimal | None = None) -> Conversion:
    """Refund all or part of a purchase; the row is locked so refunds add up exactly."""
    with transaction.atomic():
        locked = Conversion.objects.select_for_update().get(pk=conversion.pk)
        remaining = locked.amount - locked.refunded_amount
        refund = remaining if amount is None else amount
        if refund <= 0 or refund > remaining:
            raise RefundTooLarge(f"At most {remaining} {locked.currency} can be refunded.")
        locked.refunded_amount += refund
        locked.status = (
            Conversion.Status.REFUNDED
            if locked.refunded_amount == locked.amount
            else Conversion.Status.PARTIALLY_REFUNDED
        )
        locked.save(update_fields=["refunded_amount", "status"])
        return locked
