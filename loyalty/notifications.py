"""Emails that tell customers about their points: rewards that settled, vouchers they redeemed.

Stored in the outbox in the transaction that posts, settles or issues what they announce,
so none is lost to a broker outage; they change nothing in the ledger.
"""

from __future__ import annotations

import uuid

from django.db.models import Sum
from django.dispatch import receiver

from customers.models import ConsentRecord, Customer
from customers.privacy import customer_email_send
from loyalty.models import Entry, Transaction, Voucher
from loyalty.signals import transactions_settled, voucher_issued

# Settling rewards earns an email; ordinary purchase points settle quietly.
ANNOUNCED_KINDS = (Transaction.Kind.REFERRAL_REWARD, Transaction.Kind.WELCOME_GIFT)


def rewards_settled_notify(*, batch: uuid.UUID | str) -> int:
    """Email each customer whose referral reward or welcome gift settled in a settlement
    batch; returns how many."""
    credits = (
        Entry.objects.filter(
            transaction__settlement_batch=batch,
            transaction__kind__in=ANNOUNCED_KINDS,
            transaction__status=Transaction.Status.POSTED,
            account__customer__isnull=False,
            amount__gt=0,
        )
        .values("account__customer")
        .annotate(points=Sum("amount"))
    )
    customers = Customer.objects.select_related("user", "contact_person").in_bulk(
        [row["account__customer"] for row in credits]
    )
    return sum(
        customer_email_send(
            customer=customers[row["account__customer"]],
            template="loyalty/reward_settled",
            context={"points": row["points"]},
            topic=ConsentRecord.Topic.NOTIFICATIONS,
        )
        for row in credits
    )


def voucher_email_send(*, voucher_id: int) -> bool:
    """The code of a voucher the customer redeemed (transactional: they asked for it)."""
    voucher = Voucher.objects.select_related("reward", "customer__user").get(pk=voucher_id)
    if voucher.status != Voucher.Status.ACTIVE:
        return False
    return customer_email_send(
        customer=voucher.customer, template="loyalty/voucher", context={"voucher": voucher}
    )


@receiver(transactions_settled, dispatch_uid="loyalty.rewards_settled_email")
def _rewards_settled(sender, *, batch: uuid.UUID, **kwargs) -> None:
    """In the batch's transaction: the emails are stored with the postings they announce."""
    rewards_settled_notify(batch=batch)


@receiver(voucher_issued, dispatch_uid="loyalty.voucher_email")
def _voucher_issued(sender, *, voucher: Voucher, **kwargs) -> None:
    """Redeemed vouchers only: a gifted reward or a welcome voucher has its own email."""
    redemption = voucher.redemption
    if redemption is not None and redemption.customer_id == voucher.customer_id:
        voucher_email_send(voucher_id=voucher.pk)
