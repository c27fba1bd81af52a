"""Redeeming points for catalog rewards, and the vouchers partner sites check and use.

Stock and voucher state change by conditional updates (compare-and-swap), so
concurrent redemptions never oversell and a voucher is used exactly once.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta

from django.db import IntegrityError
from django.db import transaction as db_transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Customer, User
from loyalty.fragments import all_vouchers_changed, catalog_changed, vouchers_changed
from loyalty.ledger import LedgerError, points_spend, reverse
from loyalty.memos import Memo
from loyalty.models import Account, Redemption, Reward, Transaction, Voucher
from loyalty.signals import voucher_issued

VOUCHER_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
VOUCHER_CODE_LENGTH = 12


class RewardUnavailable(LedgerError):
    """The reward is inactive, outside its dates, or out of stock; nothing was spent."""

    code = "reward_unavailable"


class VoucherError(Exception):
    """A voucher that cannot be used; `code` is the partner API's error code."""

    code = "voucher_error"


class VoucherUsed(VoucherError):
    code = "voucher_used"


class VoucherExpired(VoucherError):
    code = "voucher_expired"


class VoucherVoid(VoucherError):
    code = "voucher_void"


def voucher_code_generate() -> str:
    """12 characters from 31 without look-alikes: about 2^59 codes, not guessable."""
    return "".join(secrets.choice(VOUCHER_CODE_ALPHABET) for _ in range(VOUCHER_CODE_LENGTH))


def voucher_issue(
    *, customer: Customer, reward: Reward, redemption: Redemption | None = None
) -> Voucher:
    """Issue a voucher for `reward` to `customer` and announce it (`voucher_issued`)."""
    expires_at = timezone.now() + timedelta(days=reward.voucher_valid_days)
    with db_transaction.atomic():
        for _attempt in range(5):
            try:
                with db_transaction.atomic():
                    voucher = Voucher.objects.create(
                        code=voucher_code_generate(),
                        customer=customer,
                        reward=reward,
                        redemption=redemption,
                        expires_at=expires_at,
                    )
                break
            except IntegrityError:
                continue  # a code collision: draw another
        else:
            raise RuntimeError("Could not find a free voucher code after 5 attempts.")
        voucher_issued.send(sender=Voucher, voucher=voucher)
    return voucher


def reward_take_one(*, reward: Reward, now: datetime | None = None) -> None:
    """Check the reward is offered now and take one from its stock (a conditional update).

    Run it inside the caller's transaction, so a later refusal puts the stock back.
    """
    if not reward.is_open(now or timezone.now()):
        raise RewardUnavailable(_("%(reward)s is not available now.") % {"reward": reward.name})
    if reward.stock is not None:
        taken = Reward.objects.filter(pk=reward.pk, stock__gt=0).update(stock=F("stock") - 1)
        if not taken:
            raise RewardUnavailable(_("%(reward)s is out of stock.") % {"reward": reward.name})
        catalog_changed()


class _Replayed(Exception):
    def __init__(self, redemption: Redemption):
        self.redemption = redemption


def reward_redeem(
    *,
    customer: Customer,
    reward: Reward,
    idempotency_key: str | None = None,
    recipient: Customer | None = None,
) -> Redemption:
    """Spend settled points on a reward and issue its voucher, all or nothing.

    The voucher goes to `recipient` when the customer gives the reward as a
    gift. Raises `InsufficientPoints` (pending points do not count) or
    `RewardUnavailable`. With an `idempotency_key` used before, the earlier
    redemption is returned and nothing changes, also when two calls race.
    """
    key = f"redemption:{idempotency_key}" if idempotency_key else None
    if key:
        earlier = Redemption.objects.filter(transaction__idempotency_key=key).first()
        if earlier is not None:
            return earlier
    try:
        with db_transaction.atomic():
            reward_take_one(reward=reward)
            public_id = uuid.uuid4()
            spent = points_spend(
                customer=customer,
                points=reward.points_cost,
                sink=Account.System.REDEMPTIONS,
                kind=Transaction.Kind.GIFT if recipient else Transaction.Kind.REDEEM,
                memo=Memo(
                    kind="reward_gift" if recipient else "redemption",
                    params={"reward": reward.name},
                ),
                idempotency_key=key,
                cause="redemption",
                cause_ref=str(public_id),
            )
            if spent.cause_ref != str(public_id):
                # A racing call with the same key committed first: undo our stock take.
                raise _Replayed(Redemption.objects.get(transaction=spent))
            redemption = Redemption.objects.create(
                public_id=public_id,
                customer=customer,
                reward=reward,
                points_spent=reward.points_cost,
                transaction=spent,
            )
            voucher_issue(customer=recipient or customer, reward=reward, redemption=redemption)
    except _Replayed as replay:
        return replay.redemption
    return redemption


def voucher_use(*, code: str, order_id: str) -> Voucher:
    """Use a voucher for an order, once: a compare-and-swap from active to used.

    Raises `Voucher.DoesNotExist`, `VoucherUsed`, `VoucherExpired` or `VoucherVoid`.
    """
    now = timezone.now()
    voucher = Voucher.objects.get(code=Voucher.normalise_code(code))
    used = Voucher.objects.filter(
        pk=voucher.pk, status=Voucher.Status.ACTIVE, expires_at__gt=now
    ).update(status=Voucher.Status.USED, used_at=now, used_order_id=order_id[:255])
    voucher.refresh_from_db()
    vouchers_changed(voucher.customer_id)
    if used:
        return voucher
    if voucher.status == Voucher.Status.ACTIVE:
        Voucher.objects.filter(pk=voucher.pk, status=Voucher.Status.ACTIVE).update(
            status=Voucher.Status.EXPIRED
        )
        vouchers_changed(voucher.customer_id)
        raise VoucherExpired(f"Voucher {voucher.code} expired on {voucher.expires_at:%Y-%m-%d}.")
    raise {
        Voucher.Status.USED: VoucherUsed(f"Voucher {voucher.code} was already used."),
        Voucher.Status.EXPIRED: VoucherExpired(f"Voucher {voucher.code} has expired."),
        Voucher.Status.VOID: VoucherVoid(f"Voucher {voucher.code} was cancelled."),
    }[voucher.status]


def voucher_void(
    *, voucher: Voucher, reason: str, actor: User | None = None, refund: bool = True
) -> Voucher:
    """Cancel an active voucher; with `refund`, the points spent on it go back to the customer.

    Raises `VoucherUsed` / `VoucherExpired` / `VoucherVoid` if it is no longer active.
    """
    if not reason.strip():
        raise LedgerError("A reason is required to cancel a voucher.")
    with db_transaction.atomic():
        cancelled = Voucher.objects.filter(pk=voucher.pk, status=Voucher.Status.ACTIVE).update(
            status=Voucher.Status.VOID, void_reason=reason
        )
        voucher.refresh_from_db()
        vouchers_changed(voucher.customer_id)
        if not cancelled:
            raise {
                Voucher.Status.USED: VoucherUsed,
                Voucher.Status.EXPIRED: VoucherExpired,
                Voucher.Status.VOID: VoucherVoid,
            }[voucher.status](f"Voucher {voucher.code} is {voucher.get_status_display()}.")
        if refund and voucher.redemption_id:
            reverse(
                transaction=voucher.redemption.transaction,
                reason=f"Voucher {voucher.code} cancelled: {reason}",
                actor=actor,
                idempotency_key=f"voucher:{voucher.code}:refund",
            )
            if voucher.reward.stock is not None:
                Reward.objects.filter(pk=voucher.reward_id).update(stock=F("stock") + 1)
                catalog_changed()
    return voucher


def vouchers_expire(*, now: datetime | None = None) -> int:
    """Mark active vouchers past their date as expired, set-based; returns how many."""
    expired = Voucher.objects.filter(
        status=Voucher.Status.ACTIVE, expires_at__lte=now or timezone.now()
    ).update(status=Voucher.Status.EXPIRED)
    if expired:
        all_vouchers_changed()
    return expired
