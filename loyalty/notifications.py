"""Emails that tell customers about their points: rewards that settled, vouchers they redeemed.

Stored in the outbox in the transaction that posts or issues what they announce, so none
is lost to a broker outage; a settlement batch stores a promise of its emails instead
(`SettledBatchEmails`), kept by a worker and the beat's sweeper. They change nothing in
the ledger.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.dispatch import receiver
from django.utils import timezone

from core.db import enqueue_after_commit
from core.sql import insert_unless_taken
from customers.models import ConsentRecord, Customer
from customers.privacy import customer_email_send
from loyalty.models import Entry, SettledBatchEmails, Transaction, Voucher
from loyalty.signals import transactions_settled, voucher_issued

EMAIL_REWARDS_SETTLED_TASK = "loyalty.tasks.email_rewards_settled"

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


def settled_batch_emails_write(*, batch: uuid.UUID | str) -> int:
    """Store a settled batch's emails in the outbox and mark the batch, in one transaction:
    a second run, or a run after the sweeper queued the batch again, writes nothing."""
    with transaction.atomic():
        claimed = SettledBatchEmails.objects.filter(batch=batch, emailed_at=None).update(
            emailed_at=timezone.now()
        )
        return rewards_settled_notify(batch=batch) if claimed else 0


def settled_batch_emails_sweep(*, now: datetime | None = None) -> int:
    """Queue again the batches whose emails are still unwritten a while after settling
    (the broker lost the message); forget batches written a week ago. Returns how many."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.EMAIL_OUTBOX_SWEEP_AFTER_SECONDS)
    SettledBatchEmails.objects.filter(emailed_at__lt=now - timedelta(days=7)).delete()
    batches = list(
        SettledBatchEmails.objects.filter(emailed_at=None, created_at__lte=stale).values_list(
            "batch", flat=True
        )[:1000]
    )
    for batch in batches:
        enqueue_after_commit(EMAIL_REWARDS_SETTLED_TASK, str(batch))
    return len(batches)


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
    """In the batch's transaction: one row that promises the batch's emails, written by a
    worker after commit (rendering them here would hold the batch's rows for seconds)."""
    if insert_unless_taken(SettledBatchEmails(batch=batch)):
        enqueue_after_commit(EMAIL_REWARDS_SETTLED_TASK, str(batch))


@receiver(voucher_issued, dispatch_uid="loyalty.voucher_email")
def _voucher_issued(sender, *, voucher: Voucher, **kwargs) -> None:
    """Redeemed vouchers only: a gifted reward or a welcome voucher has its own email."""
    redemption = voucher.redemption
    if redemption is not None and redemption.customer_id == voucher.customer_id:
        voucher_email_send(voucher_id=voucher.pk)
