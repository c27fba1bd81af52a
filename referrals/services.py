"""Attribution, qualification, refunds and staff review of referrals.

The partner API and the signup flow call these; every reward goes through
`loyalty.ledger` with idempotency keys derived from the referral, so that a
retried call never grants twice.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core.sql import row_locked
from customers.models import Conversion, Customer, User
from customers.services import connection_befriend
from loyalty import ledger
from loyalty.memos import Memo
from loyalty.models import Account, Transaction, Voucher
from loyalty.vouchers import (
    RewardUnavailable,
    VoucherError,
    reward_take_one,
    voucher_issue,
    voucher_void,
)
from referrals.fragments import invitations_changed
from referrals.models import Invitation, LinkVisit, Referral, ReferralProgram
from referrals.notifications import welcome_gift_email_send
from referrals.rules import email_key, is_disposable, same_mailbox
from referrals.selectors import program_active, referrer_by_code
from referrals.signals import referral_attributed, referral_qualified

logger = logging.getLogger(__name__)


class UnknownReferralCode(Exception):
    """No active customer has this referral code."""


class ReviewError(Exception):
    """A staff decision on a referral that is not waiting for one."""


def _fraud_verdict(*, referrer: Customer, referee: Customer) -> tuple[str, str]:
    """The status a new referral starts in, and the reason staff see."""
    if same_mailbox(referrer.user.email, referee.user.email):
        return Referral.Status.REJECTED, "Self-referral: both addresses are the same mailbox."
    if is_disposable(referee.user.email):
        return Referral.Status.REVIEW, "The friend signed up with a disposable email address."
    return Referral.Status.PENDING, ""


def referral_attribute(
    *, customer: Customer, code: str, source: str, invitation_id: int | None = None
) -> Referral | None:
    """Attribute a new customer to the owner of `code`: one referrer per customer, ever.

    Returns the existing referral unchanged if the customer has one, None for
    one's own code or when no program runs, a rejected or held referral when a
    fraud rule objects. Raises `UnknownReferralCode` for a code nobody has.
    """
    referrer = referrer_by_code(code=code)
    if referrer is None:
        raise UnknownReferralCode(code)
    existing = Referral.objects.filter(referee=customer).first()
    if existing is not None:
        return existing
    program = program_active()
    if referrer.pk == customer.pk or program is None:
        return None
    status, reason = _fraud_verdict(referrer=referrer, referee=customer)
    invitation = (
        Invitation.objects.filter(pk=invitation_id, sender=referrer).first()
        if invitation_id
        else None
    )
    try:
        with transaction.atomic():
            referral = Referral.objects.create(
                referrer=referrer,
                referee=customer,
                program=program,
                source=source,
                invitation=invitation,
                status=status,
                reason=reason,
            )
            invitations_changed(referrer.pk)
            _invitations_accept(referral=referral, invitation=invitation)
            if status != Referral.Status.REJECTED:
                connection_befriend(customer=referrer, other=customer)
            referral_attributed.send(sender=Referral, referral=referral)
            if program.qualifying_event == ReferralProgram.QualifyingEvent.SIGNUP:
                _qualify(referral=referral, conversion=None)
    except IntegrityError:
        # A concurrent signup attributed this customer first; theirs stands.
        return Referral.objects.get(referee=customer)
    return referral


def _invitations_accept(*, referral: Referral, invitation: Invitation | None) -> None:
    """The used invitation, and any other open one from this referrer to this address, end."""
    now = timezone.now()
    open_ones = Invitation.objects.filter(
        sender=referral.referrer,
        email_key=email_key(referral.referee.user.email),
        status__in=Invitation.OPEN_STATUSES,
    )
    ids = {*open_ones.values_list("pk", flat=True)}
    if invitation is not None and invitation.status in Invitation.OPEN_STATUSES:
        ids.add(invitation.pk)
    Invitation.objects.filter(pk__in=ids).update(
        status=Invitation.Status.ACCEPTED, accepted_at=now, claimed_until=None
    )
    if invitation is None and ids:
        Referral.objects.filter(pk=referral.pk).update(invitation_id=min(ids))


def _rewarded_this_month(*, referrer: Customer, now) -> int:
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return Referral.objects.filter(
        referrer=referrer,
        qualified_at__gte=start,
        status__in=[Referral.Status.QUALIFIED, Referral.Status.REWARDED],
    ).count()


def _qualify(
    *, referral: Referral, conversion: Conversion | None, enforce_cap: bool = True
) -> Referral | None:
    """Post both rewards as pending and mark the referral qualified (row already locked).

    Beyond the monthly cap the referral is held for staff, whose approval overrides it.
    """
    program = referral.program
    now = timezone.now()
    if enforce_cap and (
        _rewarded_this_month(referrer=referral.referrer, now=now) >= program.max_rewarded_per_month
    ):
        referral.status = Referral.Status.REVIEW
        referral.reason = "The referrer reached the monthly cap of rewarded referrals."
        referral.conversion = conversion
        referral.save(update_fields=["status", "reason", "conversion"])
        invitations_changed(referral.referrer_id)
        return None
    settles_at = now + timedelta(days=program.hold_days)
    ref = str(referral.public_id)
    referral.reward_transaction = ledger.points_award(
        customer=referral.referrer,
        points=program.referrer_points,
        source=Account.System.REFERRAL_EXPENSE,
        settles_at=settles_at,
        kind=Transaction.Kind.REFERRAL_REWARD,
        # Memos stay free of names: the ledger outlives an erasure untouched.
        memo=Memo(kind="referral_reward"),
        idempotency_key=f"referral:{ref}:referrer",
        cause="referral",
        cause_ref=ref,
    )
    if program.friend_points:
        referral.friend_transaction = ledger.points_award(
            customer=referral.referee,
            points=program.friend_points,
            source=Account.System.REFERRAL_EXPENSE,
            settles_at=settles_at,
            kind=Transaction.Kind.WELCOME_GIFT,
            memo=Memo(kind="welcome_gift"),
            idempotency_key=f"referral:{ref}:friend",
            cause="referral",
            cause_ref=ref,
        )
    referral.friend_voucher = _friend_voucher(referral)
    referral.status = Referral.Status.QUALIFIED
    referral.qualified_at = now
    referral.conversion = conversion
    referral.reason = ""
    referral.save(
        update_fields=[
            "status",
            "qualified_at",
            "conversion",
            "reason",
            "reward_transaction",
            "friend_transaction",
            "friend_voucher",
        ]
    )
    if conversion is not None and referral.invitation_id:
        Invitation.objects.filter(pk=referral.invitation_id).update(
            status=Invitation.Status.CONVERTED
        )
    invitations_changed(referral.referrer_id)
    referral_qualified.send(sender=Referral, referral=referral)
    if referral.friend_transaction or referral.friend_voucher:
        welcome_gift_email_send(referral_id=referral.pk)
    return referral


def _friend_voucher(referral: Referral) -> Voucher | None:
    """The catalog reward of the friend's gift, if the program has one and it is in stock.

    Issued once: the caller holds the referral's row lock and it is not yet qualified.
    """
    reward = referral.program.friend_reward
    if reward is None:
        return None
    try:
        reward_take_one(reward=reward)
    except RewardUnavailable:
        logger.warning("Referral %s: the friend's reward %s is unavailable", referral.pk, reward)
        return None
    return voucher_issue(customer=referral.referee, reward=reward)


def _purchase_qualifies(*, referral: Referral, conversion: Conversion) -> bool:
    program = referral.program
    if program.qualifying_event != ReferralProgram.QualifyingEvent.PURCHASE:
        return False
    if conversion.status == Conversion.Status.REFUNDED:
        return False
    window_end = referral.created_at + timedelta(days=program.attribution_window_days)
    if conversion.occurred_at > window_end:
        return False
    if program.minimum_purchase <= 0:
        return True
    return (
        conversion.currency == program.minimum_currency
        and conversion.amount - conversion.refunded_amount >= program.minimum_purchase
    )


def _locked_referral(customer_id: int) -> Referral | None:
    return (
        Referral.objects.select_for_update()
        .select_related("referrer__user", "referee__user", "program")
        .filter(referee_id=customer_id)
        .first()
    )


def referral_conversion_qualify(*, conversion: Conversion) -> Referral | None:
    """Reward the referral of the buyer if this purchase qualifies it; None otherwise.

    Safe to call twice for the same purchase: the second call returns the same
    referral and its transactions, and nothing is posted again.
    """
    # Nothing in here is caught: no savepoint is needed, only the transaction for the locks.
    with transaction.atomic(savepoint=False):
        # Every purchase asks, few buyers were referred: the lock query reads the referral
        # row alone, and the rest is read only for a referral that may qualify.
        referral = row_locked(Referral, "referee_id", conversion.customer_id)
        if referral is None:
            return None
        if referral.status in (Referral.Status.QUALIFIED, Referral.Status.REWARDED):
            return referral if referral.conversion_id == conversion.pk else None
        if referral.status != Referral.Status.PENDING:
            return None
        referral.referee = conversion.customer
        if not _purchase_qualifies(referral=referral, conversion=conversion):
            return None
        # The referrer's row lock serialises their referrals' qualifications, so the
        # monthly cap counts each of them.
        referral.referrer = Customer.objects.select_for_update().get(pk=referral.referrer_id)
        return _qualify(referral=referral, conversion=conversion)


def reward_take_back(*, txn: Transaction | None, reason: str, key: str) -> None:
    """Take back a reward: void it while it is held, reverse it once it settled."""
    if txn is None:
        return
    if not ledger.void(transaction=txn, reason=reason):
        txn.refresh_from_db(fields=["status"])
        if txn.status == Transaction.Status.POSTED:
            ledger.reverse(transaction=txn, reason=reason, idempotency_key=key)


def referral_conversion_refund(*, conversion: Conversion) -> None:
    """Take back the rewards a refunded purchase earned: void if pending, reverse if settled.

    A partial refund takes them back only when what is left no longer meets
    the program's minimum. The referral ends rejected (it cannot qualify again:
    its rewards' idempotency keys are spent).
    """
    with transaction.atomic():
        conversion = Conversion.objects.get(pk=conversion.pk)
        referral = _locked_referral(conversion.customer_id)
        if referral is None or referral.conversion_id != conversion.pk:
            return
        if referral.status not in (Referral.Status.QUALIFIED, Referral.Status.REWARDED):
            return
        program = referral.program
        if conversion.status != Conversion.Status.REFUNDED and (
            program.minimum_purchase <= 0
            or conversion.amount - conversion.refunded_amount >= program.minimum_purchase
        ):
            return
        reason = f"Purchase {conversion.order_id} was refunded."
        ref = str(referral.public_id)
        reward_take_back(
            txn=referral.reward_transaction, reason=reason, key=f"referral:{ref}:referrer:refund"
        )
        reward_take_back(
            txn=referral.friend_transaction, reason=reason, key=f"referral:{ref}:friend:refund"
        )
        if referral.friend_voucher is not None:
            # Used or expired already: a gift the friend enjoyed is not taken back.
            with contextlib.suppress(VoucherError):
                voucher_void(voucher=referral.friend_voucher, reason=reason, refund=False)
        referral.status = Referral.Status.REJECTED
        referral.reason = reason
        referral.save(update_fields=["status", "reason"])
        invitations_changed(referral.referrer_id)


def referrals_mark_rewarded(*, batch: uuid.UUID) -> int:
    """Referrals whose referrer's reward settled in a settlement batch become rewarded
    (compare-and-swap)."""
    # No fragment to drop: the invite page counts rewarded referrals with the qualified ones.
    return Referral.objects.filter(
        reward_transaction__settlement_batch=batch, status=Referral.Status.QUALIFIED
    ).update(status=Referral.Status.REWARDED, rewarded_at=timezone.now())


def referral_review(*, referral: Referral, approve: bool, staff: User, reason: str) -> Referral:
    """Staff decide on a held referral; approval qualifies it if its event already happened.

    Rejection is final and keeps the reason, which staff must give.
    """
    if not approve and not reason.strip():
        raise ReviewError("Give a reason for the rejection.")
    with transaction.atomic():
        locked = _locked_referral(referral.referee_id)
        if locked is None or locked.status != Referral.Status.REVIEW:
            raise ReviewError("This referral is not waiting for a review.")
        locked.reviewed_by, locked.reviewed_at = staff, timezone.now()
        invitations_changed(locked.referrer_id)
        if not approve:
            locked.status, locked.reason = Referral.Status.REJECTED, reason.strip()
            locked.save(update_fields=["status", "reason", "reviewed_by", "reviewed_at"])
            return locked
        locked.status, locked.reason = Referral.Status.PENDING, reason.strip()
        locked.save(update_fields=["status", "reason", "reviewed_by", "reviewed_at"])
        conversion = locked.conversion or (
            Conversion.objects.filter(customer_id=locked.referee_id)
            .exclude(status=Conversion.Status.REFUNDED)
            .order_by("occurred_at")
            .first()
        )
        signup = locked.program.qualifying_event == ReferralProgram.QualifyingEvent.SIGNUP
        if signup or (
            conversion is not None and _purchase_qualifies(referral=locked, conversion=conversion)
        ):
            _qualify(referral=locked, conversion=None if signup else conversion, enforce_cap=False)
        return locked


def link_visit_count(*, referrer: Customer) -> None:
    """Count a visit of the referrer's link for today (one row per referrer and day)."""
    today = timezone.localdate()
    if not LinkVisit.objects.filter(referrer=referrer, day=today).update(visits=F("visits") + 1):
        try:
            with transaction.atomic():
                LinkVisit.objects.create(referrer=referrer, day=today, visits=1)
        except IntegrityError:
            LinkVisit.objects.filter(referrer=referrer, day=today).update(visits=F("visits") + 1)
    invitations_changed(referrer.pk)
