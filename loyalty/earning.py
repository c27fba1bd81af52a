"""Earning: purchases by the earn rules and tier, the first-review and answer bonuses, and
refunds.

What a purchase earned is read back from the ledger when it is refunded, so
a refund takes back a share of the points actually granted, never points
recomputed with today's rules or rates.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from fractions import Fraction

from django.db import transaction as db_transaction
from django.utils import timezone

from core.process_cache import cached_rows, forget_on_change
from customers.models import Conversion, Customer
from loyalty.ledger import (
    LedgerError,
    customer_account,
    pending_reschedule,
    points_award,
    points_share,
    post,
    reversible_points,
    system_account,
    transaction_unwind,
    void,
)
from loyalty.memos import Memo
from loyalty.models import Account, EarnRule, ExchangeRate, Transaction
from loyalty.tiers import tier_placement_earned, tier_placement_for_update


class UnknownCurrency(LedgerError):
    """No exchange rate from the purchase's currency to the program's; nothing was written."""


# Staff edits of the earn rules hold at once in the process that saved them and within
# this many seconds in every other.
EARN_RULE_CACHE_SECONDS = 10
_EARN_RULE_KEY = "loyalty:earn-rule"
forget_on_change(EarnRule, _EARN_RULE_KEY)


def earn_rule() -> EarnRule:
    """The program's single earn-rule row, created with the defaults on first use."""
    return cached_rows(
        _EARN_RULE_KEY,
        lambda: EarnRule.objects.get_or_create(pk=1)[0],
        seconds=EARN_RULE_CACHE_SECONDS,
    )


def exchange_rate(*, currency: str, rule: EarnRule) -> Decimal:
    """Units of program currency per unit of `currency`; `UnknownCurrency` when staff set none."""
    currency = currency.upper()
    if currency == rule.program_currency.upper():
        return Decimal(1)
    rate = ExchangeRate.objects.filter(currency=currency).values_list("rate", flat=True).first()
    if rate is None:
        raise UnknownCurrency(
            f"No exchange rate from {currency} to {rule.program_currency}: "
            "purchases in this currency cannot earn points until staff add one."
        )
    return rate


def _earn_key(conversion: Conversion) -> str:
    return f"conversion:{conversion.public_id}:earn"


def conversion_earn(
    *, conversion: Conversion, held_until: datetime | None = None
) -> Transaction | None:
    """Award the points a purchase earns (held `hold_days` when the rule says so), once.

    `held_until` holds them at least that long, pending, whatever the rule: a purchase
    reported through a link the customer has not agreed to yet waits for their answer.
    Returns the earn transaction (the earlier one on a repeat), or None when
    the purchase earns no points. `UnknownCurrency` is raised before anything
    is written.
    """
    rule = earn_rule()
    rate = exchange_rate(currency=conversion.currency, rule=rule)
    # Past this point only a database error fails, and it dooms the caller's transaction
    # anyway: no savepoint.
    with db_transaction.atomic(savepoint=False):
        # The account is locked first: an earlier earn of this purchase has committed by
        # now if there is one, and the tier placement stays true until this posting.
        placement = tier_placement_for_update(customer=conversion.customer)
        tier = placement.tier
        multiplier = tier.multiplier if tier else Decimal(1)
        points = int(
            (conversion.amount * rate * rule.points_per_unit * multiplier).to_integral_value(
                rounding=ROUND_FLOOR
            )
        )
        if points <= 0:
            return Transaction.objects.filter(idempotency_key=_earn_key(conversion)).first()
        memo_params = {"order": conversion.order_id}
        if tier is not None and multiplier != 1:
            memo_params.update(tier=tier.name, multiplier=str(multiplier.normalize()))
        # The posting's key decides whether this is a repeat (then nothing is written, the
        # placement included, and the earlier earn is the answer).
        moved = tier_placement_earned(placement=placement, points=points)
        settles_at = timezone.now() + timedelta(days=rule.hold_days) if rule.hold_days else None
        if held_until is not None:
            settles_at = max(settles_at or held_until, held_until)
        return post(
            kind=Transaction.Kind.EARN,
            entries=[
                (placement.account, points),
                (system_account(Account.System.POINTS_ISSUED), -points),
            ],
            settles_at=settles_at,
            exchange_rate=rate,
            memo=Memo(kind="order_points", params=memo_params),
            idempotency_key=_earn_key(conversion),
            cause="conversion",
            cause_ref=str(conversion.public_id),
            placement=moved,
        )


def conversion_unwind(*, conversion: Conversion, refunded_amount: Decimal) -> None:
    """Take back what a refunded purchase earned, in proportion to the refunded share.

    `refunded_amount` is the purchase's total refunded so far (its
    `refunded_amount` after `conversion_refund`), so each refund step takes
    back only the difference and a repeated step takes nothing. Pending points
    are voided (the kept part held again); posted ones are reversed, never
    below zero (the rest is written off).
    """
    if not 0 < refunded_amount <= conversion.amount:
        raise LedgerError("The refunded amount is above 0 and at most the purchase amount.")
    with db_transaction.atomic():
        # Locking the first earn transaction serialises refunds of one purchase.
        first = (
            Transaction.objects.select_for_update()
            .filter(idempotency_key=_earn_key(conversion))
            .first()
        )
        if first is None:
            return
        granted = first.entries.get(amount__gt=0).amount
        target = points_share(granted, Fraction(refunded_amount) / Fraction(conversion.amount))
        live = (
            Transaction.objects.filter(
                kind=Transaction.Kind.EARN, cause="conversion", cause_ref=str(conversion.public_id)
            )
            .exclude(status=Transaction.Status.VOIDED)
            .first()
        )
        if live is None:
            return
        credited = live.entries.get(amount__gt=0).amount
        held = credited if live.status == Transaction.Status.PENDING else reversible_points(live)
        to_take = target - (granted - held)
        if to_take <= 0:
            return
        transaction_unwind(
            transaction=live,
            reason=f"Refund of order {conversion.order_id}, {refunded_amount} in all",
            share=Fraction(to_take, credited),
            idempotency_key=f"conversion:{conversion.public_id}:refund:{refunded_amount}",
        )


def _pending_earn(conversion: Conversion) -> Transaction | None:
    return Transaction.objects.filter(
        idempotency_key=_earn_key(conversion), status=Transaction.Status.PENDING
    ).first()


def conversion_earn_release(*, conversion: Conversion) -> Transaction | None:
    """Let a purchase's held points settle as the earn rule would have had them settle
    (now, if their hold has passed); returns the earn, or None if there is none pending."""
    earn = _pending_earn(conversion)
    if earn is None:
        return None
    hold = timedelta(days=earn_rule().hold_days)
    pending_reschedule(transaction=earn, settles_at=max(earn.created_at + hold, timezone.now()))
    return earn


def conversion_earn_void(*, conversion: Conversion, reason: str) -> bool:
    """Void a purchase's points while they are still pending; False if none were."""
    earn = _pending_earn(conversion)
    return earn is not None and void(transaction=earn, reason=reason)


def review_bonus_award(*, customer: Customer, review_ref: str) -> Transaction | None:
    """The bonus for a customer's first published review of a subject, whatever its rating.

    A customer writes one review per subject, so the review is the unit: once per
    `review_ref`, also when it is published again after an edit. Returns the bonus
    transaction (the earlier one on a repeat), or None when the rule's bonus is 0.
    """
    bonus = earn_rule().first_review_bonus
    if not bonus:
        return None
    return points_award(
        customer=customer,
        points=bonus,
        kind=Transaction.Kind.REVIEW_BONUS,
        memo=Memo(kind="review_bonus"),
        idempotency_key=f"review:{review_ref}:bonus",
        cause="review",
        cause_ref=review_ref[:64],
    )


def answer_bonus_award(*, customer: Customer, question_ref: str) -> Transaction | None:
    """Points for a customer's published answer: once per question, and no more than the earn
    rule's number of answers a day (a cap, so that answering is help, not a points farm).

    Returns the bonus transaction (the earlier one on a repeat), or None when the rule's
    bonus is 0 or the customer's answers today have reached the cap.
    """
    rule = earn_rule()
    if not rule.answer_bonus:
        return None
    key = f"answer:{question_ref}:{customer.public_id}:bonus"
    with db_transaction.atomic():
        # The account's row lock orders two answers published at once, so the count below
        # cannot be read by both before either posts.
        account = Account.objects.select_for_update().get(pk=customer_account(customer).pk)
        earlier = Transaction.objects.filter(idempotency_key=key).first()
        if earlier is not None:
            return earlier
        today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
        awarded_today = Transaction.objects.filter(
            kind=Transaction.Kind.ANSWER_BONUS, entries__account=account, created_at__gte=today
        ).count()
        if awarded_today >= rule.answer_bonus_daily_limit:
            return None
        return points_award(
            customer=customer,
            points=rule.answer_bonus,
            kind=Transaction.Kind.ANSWER_BONUS,
            memo=Memo(kind="answer_bonus"),
            idempotency_key=key,
            cause="answer",
            cause_ref=question_ref[:64],
        )
