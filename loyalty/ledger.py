"""The one module that moves points: post, hold, settle, void and reverse.

Rules it keeps (ARCHITECTURE.md, "The ledger"):
- every transaction's entries sum to zero; entries are only ever added;
- a customer's cached balances change in the same database transaction as
  their entries, by conditional updates, so concurrent spends cannot overdraw;
- an idempotency key posts once: the unique constraint decides, not a lookup;
- pending transactions settle exactly once, in set-based batches.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Required, TypedDict, Unpack

from django.db import IntegrityError, connection
from django.db import transaction as db_transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.process_cache import cached_rows
from core.sql import column, copy_rows, insert_rows, insert_unless_taken, row_update, table
from customers.models import Customer, User
from loyalty.memos import WRITABLE_KINDS, Memo
from loyalty.models import Account, Entry, Transaction
from loyalty.signals import transaction_reversed, transaction_voided, transactions_settled

if TYPE_CHECKING:
    from loyalty.tiers import Placement


class LedgerError(Exception):
    """A posting that breaks a ledger rule; nothing was written."""


class InsufficientPoints(LedgerError):
    """The customer's settled balance does not cover the debit."""

    code = "insufficient_points"


# System accounts are created once and never change (their balances are summed on demand).
SYSTEM_ACCOUNT_CACHE_SECONDS = 600


def system_account(code: str) -> Account:
    code = Account.System(code)
    return cached_rows(
        f"loyalty:system-account:{code}",
        lambda: Account.objects.get_or_create(system_code=code)[0],
        seconds=SYSTEM_ACCOUNT_CACHE_SECONDS,
    )


def customer_account(customer: Customer) -> Account:
    account, _ = Account.objects.get_or_create(customer=customer)
    return account


def placement_stale() -> dict[str, None]:
    """The account columns that mark its stored tier placement stale: every change to a
    customer's balances writes them, so the next read places the tier anew."""
    return {"tier_fresh_until": None}


def _apply_to_balances(
    entries: Sequence[tuple[Account, int]], *, pending: bool, placement: Placement | None
) -> None:
    now = timezone.now()
    # A fixed lock order (by primary key) keeps two postings from deadlocking.
    for account, amount in sorted(entries, key=lambda item: item[0].pk):
        if account.customer_id is None:
            continue
        moved = placement is not None and placement.account.pk == account.pk
        touched = {"last_activity_at": now, **(placement.columns() if moved else placement_stale())}
        # Pending amounts are credits (`post` refuses held debits); a settled debit holds only
        # while the balance covers it, checked in the same statement.
        balance = "pending_balance" if pending else "settled_balance"
        floor = {balance: -amount} if amount < 0 else None
        updated = row_update(Account, account.pk, touched, add={balance: amount}, at_least=floor)
        if floor and not updated:
            raise InsufficientPoints(
                _("Not enough settled points for %(points)s.") % {"points": -amount}
            )


def credited_points(transaction: Transaction) -> int:
    """What a two-sided transaction credited (its positive entry), from the entries `post`
    just wrote, or read from the ledger."""
    entries = transaction.entries_written or transaction.entries.all()
    return max(entry.amount for entry in entries)


def post(
    *,
    kind: str,
    entries: Sequence[tuple[Account, int]],
    memo: Memo | str,
    idempotency_key: str | None = None,
    settles_at: datetime | None = None,
    cause: str = "",
    cause_ref: str = "",
    actor: User | None = None,
    reason: str = "",
    reverses: Transaction | None = None,
    exchange_rate=None,
    placement: Placement | None = None,
) -> Transaction:
    """Write one balanced transaction: posted now, or held as pending until `settles_at`.

    With an `idempotency_key` that was used before, the earlier transaction is
    returned and nothing changes, also when two callers race. A posting marks each
    customer account's tier placement stale; a caller that knows the placement after this
    posting (loyalty/earning.py, under the account's lock) passes it as `placement`, and
    it is stored on its account in the same statement as the balance. A `memo` given as
    text is a note (shown as typed); the program's own sentences are `Memo` kinds.
    """
    if any(not isinstance(amount, int) or amount == 0 for _, amount in entries):
        raise LedgerError("Entry amounts are non-zero integers.")
    if len(entries) < 2 or sum(amount for _, amount in entries) != 0:
        raise LedgerError("A transaction's entries must sum to zero.")
    pending = settles_at is not None
    if pending and any(a.customer_id and amount < 0 for a, amount in entries):
        raise LedgerError("Only credits to customers can be held; debits post at once.")
    if placement is not None and all(a.pk != placement.account.pk for a, _ in entries):
        raise LedgerError("A placement is stored only on an account the posting moves.")
    # Only a debit can be refused (InsufficientPoints) after rows are written: its savepoint
    # undoes them for a caller that carries on. Anything else that fails here is a database
    # error, which dooms the caller's transaction anyway.
    debits_customer = any(a.customer_id and amount < 0 for a, amount in entries)
    memo = memo if isinstance(memo, Memo) else Memo.note(memo)
    if memo.kind not in WRITABLE_KINDS:
        raise LedgerError(f"No memo kind {memo.kind!r}.")
    with db_transaction.atomic(savepoint=debits_customer):
        posted = Transaction(
            kind=kind,
            status=Transaction.Status.PENDING if pending else Transaction.Status.POSTED,
            idempotency_key=idempotency_key or None,
            settles_at=settles_at,
            posted_at=None if pending else timezone.now(),
            memo=memo.english()[:255],
            memo_kind=memo.kind,
            memo_params=dict(memo.params),
            cause=cause,
            cause_ref=cause_ref,
            created_by=actor,
            reason=reason,
            reverses=reverses,
            exchange_rate=exchange_rate,
        )
        if not insert_unless_taken(posted):
            # The key was used before (or another caller committed it first): the unique
            # constraint decides, and the earlier transaction is the answer.
            existing = (
                Transaction.objects.filter(idempotency_key=idempotency_key).first()
                if idempotency_key
                else None
            )
            if existing is None:
                raise IntegrityError("A ledger transaction's unique value is taken.")
            return existing
        created = [
            Entry(transaction=posted, account=account, amount=amount) for account, amount in entries
        ]
        insert_rows(created)
        posted.entries_written = created
        _apply_to_balances(entries, pending=pending, placement=placement)
    return posted


class PostingDetails(TypedDict, total=False):
    """What describes a posting besides its entries (see `post`)."""

    kind: Required[str]
    memo: Required[Memo | str]
    idempotency_key: str | None
    cause: str
    cause_ref: str
    actor: User | None
    reason: str


def _positive(points: int) -> int:
    if not isinstance(points, int) or points <= 0:
        raise LedgerError(_("Points must be a positive whole number."))
    return points


def points_award(
    *,
    customer: Customer,
    points: int,
    source: str = Account.System.POINTS_ISSUED,
    settles_at: datetime | None = None,
    exchange_rate=None,
    **details: Unpack[PostingDetails],
) -> Transaction:
    """Credit a customer from a system account; held as pending when `settles_at` is given."""
    _positive(points)
    entries = [(customer_account(customer), points), (system_account(source), -points)]
    return post(entries=entries, settles_at=settles_at, exchange_rate=exchange_rate, **details)


def points_spend(
    *, customer: Customer, points: int, sink: str, **details: Unpack[PostingDetails]
) -> Transaction:
    """Debit a customer's settled points to a system account; `InsufficientPoints` if short."""
    _positive(points)
    return post(
        entries=[(customer_account(customer), -points), (system_account(sink), points)], **details
    )


def points_transfer(
    *, sender: Customer, recipient: Customer, points: int, **details: Unpack[PostingDetails]
) -> Transaction:
    """Move settled points from one customer to another (a gift between friends)."""
    _positive(points)
    if sender.pk == recipient.pk:
        raise LedgerError(_("A gift goes to someone else."))
    entries = [(customer_account(sender), -points), (customer_account(recipient), points)]
    return post(entries=entries, **details)


@dataclass(frozen=True)
class OpeningBalances:
    """What `opening_balances_post` did: keys posted now, and keys posted before with the
    points they credited then (by key)."""

    posted: frozenset[str]
    earlier: dict[str, int]


def opening_balances_post(
    *,
    balances: Sequence[tuple[int, int, str]],
    memo: Memo,
    cause: str,
    cause_ref: str,
    actor: User | None = None,
) -> OpeningBalances:
    """Credit opening balances brought from an earlier system, each once under its key.

    `balances` holds (customer id, points, idempotency key). Set-based, for thousands
    at a time inside the caller's transaction: one COPY (or INSERT) per table, one UPDATE
    of the balances. A key used before posts nothing; its earlier amount is returned, for the
    caller to report a changed balance rather than post the difference. A concurrent
    posting under the same key makes the unique constraint refuse the whole set (the
    caller's transaction rolls back and its retry finds the key).
    """
    for _customer, points, _key in balances:
        _positive(points)
    if not balances:
        return OpeningBalances(posted=frozenset(), earlier={})
    keys = [key for _customer, _points, key in balances]
    earlier = dict(
        Entry.objects.filter(transaction__idempotency_key__any_of=keys, amount__gt=0).values_list(
            "transaction__idempotency_key", "amount"
        )
    )
    due = [(customer, points, key) for customer, points, key in balances if key not in earlier]
    if not due:
        return OpeningBalances(posted=frozenset(), earlier=earlier)
    customer_ids = [customer for customer, _points, _key in due]
    accounts = dict(
        Account.objects.filter(customer_id__any_of=customer_ids).values_list("customer_id", "pk")
    )
    missing = [customer for customer in customer_ids if customer not in accounts]
    created = copy_rows(Account, [{"customer_id": customer} for customer in missing])
    accounts.update(zip(missing, created, strict=True))
    issued = system_account(Account.System.POINTS_ISSUED)
    now = timezone.now()
    actor_id = actor.pk if actor else None
    memo_text, memo_params = memo.english()[:255], dict(memo.params)
    transaction_ids = copy_rows(
        Transaction,
        [
            {
                "kind": Transaction.Kind.OPENING_BALANCE.value,
                "status": Transaction.Status.POSTED.value,
                "idempotency_key": key,
                "posted_at": now,
                "memo": memo_text,
                "memo_kind": memo.kind,
                "memo_params": memo_params,
                "cause": cause,
                "cause_ref": cause_ref,
                "created_by_id": actor_id,
            }
            for _customer, _points, key in due
        ],
    )
    entries = []
    credits: dict[int, int] = {}
    for posted, (customer, points, _key) in zip(transaction_ids, due, strict=True):
        account = accounts[customer]
        entries.append({"transaction_id": posted, "account_id": account, "amount": points})
        entries.append({"transaction_id": posted, "account_id": issued.pk, "amount": -points})
        credits[account] = credits.get(account, 0) + points
    copy_rows(Entry, entries, keys=False)
    _credit_settled(credits, now=now)
    return OpeningBalances(posted=frozenset(key for *_rest, key in due), earlier=earlier)


def _credit_settled(credits: Mapping[int, int], *, now: datetime) -> None:
    """Add settled points to many customer accounts in one statement (credits only, so no
    balance can fall below zero; the tier placement goes stale as with any posting)."""
    ordered = sorted(credits.items())
    accounts = [account for account, _points in ordered]
    points = [amount for _account, amount in ordered]
    accounts_table, pk = table(Account), column(Account, "id")
    settled = column(Account, "settled_balance")
    touched = ", ".join(
        [f"{column(Account, 'last_activity_at')} = %s"]
        + [f"{column(Account, name)} = NULL" for name in placement_stale()]
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {accounts_table} SET {settled} = {settled} + due.points, {touched} "  # noqa: S608
                "FROM (SELECT unnest(%s::bigint[]) AS id, unnest(%s::bigint[]) AS points) due "
                f"WHERE {accounts_table}.{pk} = due.id",
                [now, accounts, points],
            )
            return
        # SQLite (development): the same in one statement its planner reads alike.
        cases = " ".join(["WHEN %s THEN %s"] * len(ordered))
        placeholders = ", ".join(["%s"] * len(ordered))
        cursor.execute(
            f"UPDATE {accounts_table} SET {settled} = {settled} + "  # noqa: S608
            f"CASE {pk} {cases} END, {touched} WHERE {pk} IN ({placeholders})",
            [*[value for pair in ordered for value in pair], now, *accounts],
        )


def _settle_batch_sql(lock: str) -> str:
    """Mark one batch of due pending transactions posted: set-based, oldest due first."""
    transactions = table(Transaction)
    status, settles_at = column(Transaction, "status"), column(Transaction, "settles_at")
    pk = column(Transaction, "id")
    return f"""
UPDATE {transactions}
   SET {status} = %s, {column(Transaction, "posted_at")} = %s,
       {column(Transaction, "settlement_batch")} = %s
 WHERE {pk} IN (
       SELECT {pk} FROM {transactions}
        WHERE {status} = %s AND {settles_at} <= %s
        ORDER BY {settles_at}, {pk}
        LIMIT %s {lock})
"""  # noqa: S608 (identifiers from the models' metadata; every value is a parameter)


def _settle_balances_sql() -> str:
    """Move one settled batch's amounts from pending to settled on each customer account,
    marking its tier placement stale as every other balance change does."""
    accounts, entries, transactions = table(Account), table(Entry), table(Transaction)
    settled = column(Account, "settled_balance")
    pending = column(Account, "pending_balance")
    stale = ", ".join(f"{column(Account, name)} = NULL" for name in placement_stale())
    return f"""
UPDATE {accounts}
   SET {settled} = {accounts}.{settled} + due.total,
       {pending} = {accounts}.{pending} - due.total,
       {column(Account, "last_activity_at")} = %s,
       {stale}
  FROM (SELECT e.{column(Entry, "account")} AS account_id, SUM(e.{column(Entry, "amount")}) AS total
          FROM {entries} e
          JOIN {transactions} t ON t.{column(Transaction, "id")} = e.{column(Entry, "transaction")}
         WHERE t.{column(Transaction, "settlement_batch")} = %s
         GROUP BY e.{column(Entry, "account")}) AS due
 WHERE {accounts}.{column(Account, "id")} = due.account_id
   AND {accounts}.{column(Account, "customer")} IS NOT NULL
"""  # noqa: S608 (identifiers from the models' metadata; every value is a parameter)


def _settle_batch(*, as_of: datetime, batch_size: int) -> int:
    batch = uuid.uuid4()
    now = timezone.now()
    # On PostgreSQL, rows another settler or a void holds are skipped, not waited
    # for; SQLite serialises writers (IMMEDIATE transactions), so it needs no lock.
    lock = "FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    batch_param = batch.hex if connection.vendor == "sqlite" else batch
    posted, pending = Transaction.Status.POSTED, Transaction.Status.PENDING
    with db_transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            _settle_batch_sql(lock), [posted, now, batch_param, pending, as_of, batch_size]
        )
        settled = cursor.rowcount
        if settled:
            cursor.execute(_settle_balances_sql(), [now, batch_param])
            transactions_settled.send(sender=Transaction, batch=batch)
    return settled


def settle_due(*, as_of: datetime | None = None, batch_size: int = 5000) -> int:
    """Post every pending transaction whose hold has passed; returns how many settled.

    Set-based batches, each in its own database transaction: safe to run twice
    or concurrently, and a pending transaction settles exactly once.
    """
    as_of = as_of or timezone.now()
    total = 0
    while settled := _settle_batch(as_of=as_of, batch_size=batch_size):
        total += settled
    return total


def void(*, transaction: Transaction, reason: str) -> bool:
    """Cancel a pending transaction; returns False if it had already settled or been voided."""
    with db_transaction.atomic():
        locked = Transaction.objects.select_for_update().get(pk=transaction.pk)
        if locked.status != Transaction.Status.PENDING:
            return False
        locked.status = Transaction.Status.VOIDED
        locked.voided_at = timezone.now()
        locked.reason = "\n".join(filter(None, [locked.reason, reason]))
        locked.save(update_fields=["status", "voided_at", "reason"])
        for entry in locked.entries.select_related("account").order_by("account_id"):
            if entry.account.customer_id is not None:
                Account.objects.filter(pk=entry.account_id).update(
                    pending_balance=F("pending_balance") - entry.amount, **placement_stale()
                )
        transaction_voided.send(sender=Transaction, transaction=locked)
    return True


def pending_reschedule(*, transaction: Transaction, settles_at: datetime) -> bool:
    """Move a pending transaction's settlement date; False if it settled or was voided."""
    return (
        Transaction.objects.filter(pk=transaction.pk, status=Transaction.Status.PENDING).update(
            settles_at=settles_at
        )
        == 1
    )


def reversible_points(transaction: Transaction) -> int:
    """Points of a posted two-sided transaction that have not been reversed yet."""
    credited = transaction.entries.filter(amount__gt=0).aggregate(total=Sum("amount"))["total"]
    reversed_ = (
        Entry.objects.filter(
            transaction__reverses=transaction,
            amount__gt=0,
            account__in=transaction.entries.filter(amount__lt=0).values("account"),
        ).aggregate(total=Sum("amount"))["total"]
        or 0
    )
    return (credited or 0) - reversed_


def reverse(
    *,
    transaction: Transaction,
    reason: str,
    points: int | None = None,
    actor: User | None = None,
    idempotency_key: str | None = None,
) -> Transaction | None:
    """Take back a posted transaction, wholly or `points` of it, with a reason.

    A customer is never taken below zero: what they no longer hold is written
    off to the write-off account (listed for staff) instead. Returns None when
    nothing is left to reverse.
    """
    with db_transaction.atomic():
        original = Transaction.objects.select_for_update().get(pk=transaction.pk)
        if original.status != Transaction.Status.POSTED:
            raise LedgerError("Only posted transactions are reversed; void pending ones.")
        entries = list(original.entries.select_related("account"))
        if len(entries) != 2:
            raise LedgerError("Only two-sided transactions can be reversed.")
        credit, debit = sorted(entries, key=lambda entry: -entry.amount)
        remaining = reversible_points(original)
        amount = remaining if points is None else min(points, remaining)
        if amount <= 0:
            return None
        taken = amount
        if credit.account.customer_id is not None:
            held = Account.objects.select_for_update().get(pk=credit.account_id).settled_balance
            taken = min(amount, held)
        reversal_entries = [(debit.account, amount)]
        if taken:
            reversal_entries.append((credit.account, -taken))
        if amount - taken:
            reversal_entries.append((system_account(Account.System.WRITE_OFF), taken - amount))
        reversal = post(
            kind=Transaction.Kind.REVERSAL,
            entries=reversal_entries,
            memo=Memo.of(original).reversed(),
            idempotency_key=idempotency_key,
            cause=original.cause,
            cause_ref=original.cause_ref,
            actor=actor,
            reason=reason,
            reverses=original,
        )
        if reversal.entries_written is not None:  # written now, not found under its key
            transaction_reversed.send(sender=Transaction, reversal=reversal)
        return reversal


def points_share(points: int, share: Fraction | Decimal | int) -> int:
    """`share` of `points`, rounded half up: the one rounding rule for partial take-backs."""
    exact = Fraction(points) * Fraction(share)
    return int(exact + Fraction(1, 2))


def transaction_unwind(
    *,
    transaction: Transaction,
    reason: str,
    share: Fraction | Decimal | int = 1,
    actor: User | None = None,
    idempotency_key: str | None = None,
) -> Transaction | None:
    """Take back `share` of what a two-sided transaction credited (a refund, a rejected review).

    Pending: voided; if only part is taken back, the kept part is held again
    until the same `settles_at` under `idempotency_key` (entries are never
    edited). Posted: reversed, never below zero (see `reverse`). Returns the
    new hold or the reversal; None when it was voided wholly or nothing was left.
    """
    share = Fraction(share)
    if not 0 < share <= 1:
        raise LedgerError("The share to take back is above 0 and at most 1.")
    with db_transaction.atomic():
        original = Transaction.objects.select_for_update().get(pk=transaction.pk)
        entries = list(original.entries.select_related("account"))
        if len(entries) != 2:
            raise LedgerError("Only two-sided transactions can be unwound.")
        credit, debit = sorted(entries, key=lambda entry: -entry.amount)
        points = min(points_share(credit.amount, share), credit.amount)
        if points == 0 or original.status == Transaction.Status.VOIDED:
            return None
        if original.status == Transaction.Status.POSTED:
            return reverse(
                transaction=original,
                reason=reason,
                points=points,
                actor=actor,
                idempotency_key=idempotency_key,
            )
        void(transaction=original, reason=reason)
        kept = credit.amount - points
        if not kept:
            return None
        return post(
            kind=original.kind,
            entries=[(credit.account, kept), (debit.account, -kept)],
            memo=Memo.of(original),
            idempotency_key=idempotency_key,
            settles_at=original.settles_at,
            cause=original.cause,
            cause_ref=original.cause_ref,
            actor=actor,
            reason=reason,
            exchange_rate=original.exchange_rate,
        )
