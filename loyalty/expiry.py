"""Points expire after a stretch of inactivity (no earning or spending), with a reminder first.

The daily beat task reads only the accounts concerned (a partial index on
`last_activity_at`), and each expiry is one posted `expire` transaction the
customer sees, keyed so that a second run posts nothing.
"""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta

from django.db import IntegrityError
from django.db import transaction as db_transaction
from django.utils import timezone

from customers.models import ConsentRecord
from customers.privacy import customer_email_send
from loyalty.earning import earn_rule
from loyalty.ledger import InsufficientPoints, points_spend
from loyalty.memos import Memo
from loyalty.models import Account, ExpiryNotice, Transaction
from loyalty.signals import points_expiring

REMINDER_DAYS = 30


def add_months(moment: datetime, months: int) -> datetime:
    """The same day `months` calendar months later or earlier (or that month's last day)."""
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _inactive_accounts(before: datetime):
    return Account.objects.filter(
        customer__isnull=False,
        customer__erased_at__isnull=True,
        settled_balance__gt=0,
        last_activity_at__lte=before,
    ).select_related("customer__user", "customer__contact_person")


def points_expire_due(*, now: datetime | None = None) -> int:
    """Expire the settled points of every account inactive for the rule's months; returns how many.

    A customer who earns or spends while this runs keeps their points: the
    account row is locked and its activity checked again before posting.
    """
    months = earn_rule().inactivity_expiry_months
    if not months:
        return 0
    now = now or timezone.now()
    cutoff = add_months(now, -months)
    expired = 0
    for account in _inactive_accounts(cutoff).iterator():
        with db_transaction.atomic():
            locked = Account.objects.select_for_update().get(pk=account.pk)
            if locked.last_activity_at > cutoff or not locked.settled_balance:
                continue
            try:
                points_spend(
                    customer=account.customer,
                    points=locked.settled_balance,
                    sink=Account.System.EXPIRY,
                    kind=Transaction.Kind.EXPIRE,
                    memo=Memo(kind="expiry", params={"months": months}),
                    idempotency_key=f"expire:{account.pk}:{locked.last_activity_at.isoformat()}",
                    cause="expiry",
                )
            except InsufficientPoints:
                continue  # spent meanwhile: they are active after all
        expired += 1
    return expired


def expiry_reminders_queue(*, now: datetime | None = None) -> int:
    """Record and queue a reminder for each account whose points expire within 30 days."""

    months = earn_rule().inactivity_expiry_months
    if not months:
        return 0
    now = now or timezone.now()
    cutoff = add_months(now + timedelta(days=REMINDER_DAYS), -months)
    queued = 0
    for account in _inactive_accounts(cutoff).iterator():
        try:
            with db_transaction.atomic():
                notice = ExpiryNotice.objects.create(
                    account=account,
                    last_activity_at=account.last_activity_at,
                    expires_at=max(add_months(account.last_activity_at, months), now),
                    points=account.settled_balance,
                )
                expiry_reminder_send(notice_id=notice.pk)
                points_expiring.send(sender=ExpiryNotice, reminder=notice)
        except IntegrityError:
            continue  # reminded already for this stretch of inactivity
        queued += 1
    return queued


def expiry_reminder_send(*, notice_id: int) -> bool:
    """Email one reminder, unless the customer has been active since or opted out."""
    notice = ExpiryNotice.objects.select_related(
        "account__customer__user", "account__customer__contact_person"
    ).get(pk=notice_id)
    if notice.account.last_activity_at != notice.last_activity_at:
        return False
    return customer_email_send(
        customer=notice.account.customer,
        template="loyalty/points_expiring",
        context={"notice": notice},
        topic=ConsentRecord.Topic.NOTIFICATIONS,
    )
