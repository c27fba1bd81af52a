"""Warm introductions: a customer introduces a friend to their contact person.

The friend is asked first, by an email with a signed, expiring link; nothing reaches the
contact person before their yes, and a friend who said no, or asked never to be emailed
(the invitations' suppression list), is not asked again. After the yes, staff move the
introduction through its stages; a win posts the introducer's reward held for the
program's hold days, and a move back from won takes it back. Fraud rules (an
introduction of oneself, of an existing customer, beyond the monthly cap) withhold the
reward with a reason staff and the introducer see.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.db import enqueue_after_commit
from core.emails import email_send
from customers.languages import language_for_recipient, languages_by_address
from customers.models import Customer, StaffAccess, User
from customers.privacy import staff_access_record
from loyalty import ledger
from loyalty.memos import Memo
from loyalty.models import Account, Transaction
from loyalty.vouchers import (
    RewardUnavailable,
    VoucherError,
    reward_take_one,
    voucher_issue,
    voucher_void,
)
from referrals.invitations import suppress_url
from referrals.models import (
    Introduction,
    IntroductionMove,
    IntroductionRewardKind,
    SuppressedEmail,
)
from referrals.rules import email_key, is_disposable, same_mailbox
from referrals.selectors import program_active
from referrals.services import reward_take_back
from referrals.signals import introduction_answered, introduction_moved

CONSENT_SALT = "referrals.introduction-consent"
# An email still unsent after this long was lost by the broker and is handed on again.
SWEEP_AFTER = timedelta(minutes=5)


class IntroductionError(Exception):
    """A request about an introduction refused; the message is for the person who asked,
    and `field` names the form field it concerns (None: the whole form)."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


# Creating


def _friend_blocked(key: str) -> bool:
    """The friend asked never to be emailed, or said no to an earlier introduction."""
    return (
        SuppressedEmail.objects.filter(email_key=key).exists()
        or Introduction.objects.filter(
            friend_email_key=key, status=Introduction.Status.DECLINED
        ).exists()
    )


def introduction_create(
    *, introducer: Customer, friend_name: str, friend_email: str, looking_for: str, note: str = ""
) -> Introduction:
    """Introduce a friend to the introducer's contact person; the friend is asked first.

    Refused with a reason: no contact person or no program, one's own address, the daily
    cap, or an introduction of the same friend still open. A friend who cannot be asked
    (opted out, said no before, or a throwaway address) is not emailed: the introduction
    is kept as withheld, without the address, and counts against the daily cap like any
    other, so that the introducer cannot look addresses up for free.
    """
    friend_name, looking_for, note = friend_name.strip(), looking_for.strip(), note.strip()
    friend_email = friend_email.strip().lower()
    contact = introducer.contact_person
    if contact is None or not contact.is_active:
        raise IntroductionError(
            _("You don't have a contact person yet, so there is nobody to introduce a friend to.")
        )
    program = program_active()
    if program is None:
        raise IntroductionError(_("Introductions are paused at the moment."))
    if not friend_name:
        raise IntroductionError(_("Enter your friend's name."), field="friend_name")
    if not looking_for:
        raise IntroductionError(_("Say what your friend is looking for."), field="looking_for")
    try:
        validate_email(friend_email)
    except ValidationError:
        raise IntroductionError(
            _("This is not a valid email address."), field="friend_email"
        ) from None
    if same_mailbox(friend_email, introducer.user.email):
        raise IntroductionError(_("That's your own address."), field="friend_email")
    key = email_key(friend_email)
    with transaction.atomic():
        # The introducer's row lock serialises their concurrent requests, so the cap holds.
        Customer.objects.select_for_update().filter(pk=introducer.pk).first()
        since = timezone.now() - timedelta(days=1)
        made = Introduction.objects.filter(introducer=introducer, created_at__gte=since).count()
        if made >= program.max_introductions_per_day:
            raise IntroductionError(
                _("You reached today's limit of introductions; try again tomorrow.")
            )
        blocked = _friend_blocked(key) or is_disposable(friend_email)
        try:
            with transaction.atomic():
                introduction = Introduction.objects.create(
                    introducer=introducer,
                    contact_person=contact,
                    program=program,
                    friend_name=friend_name,
                    friend_email="" if blocked else friend_email,
                    friend_email_key=key,
                    friend_was_customer=User.objects.filter(email__iexact=friend_email).exists(),
                    looking_for=looking_for,
                    note=note,
                    status=Introduction.Status.WITHHELD if blocked else Introduction.Status.ASKING,
                    answered_at=timezone.now() if blocked else None,
                )
        except IntegrityError:
            raise IntroductionError(
                _("You already introduced this friend; that introduction is still open."),
                field="friend_email",
            ) from None
        if not blocked:
            enqueue_after_commit("referrals.tasks.email_introduction_consent", introduction.pk)
    return introduction


# The friend's answer


def introduction_consent_token(introduction: Introduction) -> str:
    """The signed part of the friend's yes/no link; it expires after the answer days."""
    return signing.dumps(str(introduction.public_id), salt=CONSENT_SALT)


def introduction_consent_url(introduction: Introduction) -> str:
    token = introduction_consent_token(introduction)
    return settings.SITE_URL + reverse("referrals:introduction_answer", args=[token])


def introduction_by_token(token: str) -> Introduction | None:
    """The introduction a consent link names, answered or not; None if the link is forged or
    expired."""
    try:
        public_id = signing.loads(
            token, salt=CONSENT_SALT, max_age=timedelta(days=settings.INTRODUCTION_ANSWER_DAYS)
        )
    except signing.BadSignature:
        return None
    return (
        Introduction.objects.select_related("introducer__user", "contact_person")
        .filter(public_id=public_id)
        .first()
    )


def _friend_language(introduction: Introduction) -> str:
    """A member's own language; for a stranger, the one of the friend who introduces them."""
    chosen = languages_by_address([introduction.friend_email])
    return chosen.get(introduction.friend_email) or language_for_recipient(introduction.introducer)


def introduction_consent_send(*, introduction_id: int) -> bool:
    """Ask the friend, once; False when there is nothing to send.

    The row is claimed with a compare-and-swap, so a redelivered task does not ask twice;
    a friend who said no or opted out since the introduction was made is not emailed.
    An SMTP failure releases the claim and is raised, for the task to retry.
    """
    claimed = Introduction.objects.filter(
        pk=introduction_id, status=Introduction.Status.ASKING, consent_sent_at__isnull=True
    ).update(consent_sent_at=timezone.now())
    if not claimed:
        return False
    introduction = Introduction.objects.select_related("introducer__user", "contact_person").get(
        pk=introduction_id
    )
    if _friend_blocked(introduction.friend_email_key):
        Introduction.objects.filter(pk=introduction_id, status=Introduction.Status.ASKING).update(
            status=Introduction.Status.WITHHELD, friend_email="", answered_at=timezone.now()
        )
        return False
    stop = suppress_url(introduction.friend_email)
    try:
        email_send(
            to=introduction.friend_email,
            template="referrals/introduction_consent",
            context={
                "introduction": introduction,
                "introducer": introduction.introducer,
                "contact_person": introduction.contact_person,
                "consent_url": introduction_consent_url(introduction),
                "suppress_url": stop,
                "days": settings.INTRODUCTION_ANSWER_DAYS,
            },
            language=_friend_language(introduction),
            headers={
                "List-Unsubscribe": f"<{stop}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        )
    except OSError:
        Introduction.objects.filter(pk=introduction_id).update(consent_sent_at=None)
        raise
    return True


@dataclass(frozen=True)
class Answer:
    introduction: Introduction
    # False when the introduction had been answered already: this click changed nothing.
    recorded: bool


def introduction_answer(*, introduction_id: int, accept: bool) -> Answer:
    """The friend's yes or no, recorded once (compare-and-swap): a second click, or a
    click after the other answer, changes nothing. A no forgets the friend's address at
    once (its hash stays, so they are not asked again)."""
    now = timezone.now()
    changes = (
        {"status": Introduction.Status.NEW}
        if accept
        else {"status": Introduction.Status.DECLINED, "friend_email": ""}
    )
    with transaction.atomic():
        recorded = bool(
            Introduction.objects.filter(
                pk=introduction_id, status=Introduction.Status.ASKING
            ).update(answered_at=now, **changes)
        )
        introduction = Introduction.objects.select_related(
            "introducer__user", "contact_person"
        ).get(pk=introduction_id)
        if recorded:
            introduction_answered.send(sender=Introduction, introduction=introduction)
            if accept:
                enqueue_after_commit("referrals.tasks.email_introduction_accepted", introduction.pk)
    return Answer(introduction=introduction, recorded=recorded)


def introduction_accepted_send(*, introduction_id: int) -> bool:
    """After the friend's yes: the contact person gets the introduction with its context,
    and the friend gets the contact person's name, photo and how to reach them. Once
    (compare-and-swap); an SMTP failure releases the claim for the task's retry."""
    claimed = Introduction.objects.filter(
        pk=introduction_id, status__in=Introduction.STAGES, contact_emailed_at__isnull=True
    ).update(contact_emailed_at=timezone.now())
    if not claimed:
        return False
    introduction = Introduction.objects.select_related("introducer__user", "contact_person").get(
        pk=introduction_id
    )
    contact = introduction.contact_person
    photo_url = settings.SITE_URL + contact.photo_thumbnail.url if contact.photo_thumbnail else ""
    try:
        if contact.email:
            email_send(
                to=contact.email,
                template="referrals/introduction_contact",
                context={
                    "introduction": introduction,
                    "introducer": introduction.introducer,
                    "contact_person": contact,
                    "admin_url": settings.SITE_URL
                    + reverse("admin:referrals_introduction_change", args=[introduction.pk]),
                },
            )
        email_send(
            to=introduction.friend_email,
            template="referrals/introduction_friend",
            context={
                "introduction": introduction,
                "introducer": introduction.introducer,
                "contact_person": contact,
                "photo_url": photo_url,
            },
            language=_friend_language(introduction),
        )
    except OSError:
        Introduction.objects.filter(pk=introduction_id).update(contact_emailed_at=None)
        raise
    return True


# Staff moves


def _rewarded_this_month(*, introducer_id: int, now) -> int:
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (
        Introduction.objects.filter(
            introducer_id=introducer_id,
            status=Introduction.Status.WON,
            stage_changed_at__gte=start,
        )
        .filter(Q(reward_transaction__isnull=False) | Q(reward_voucher__isnull=False))
        .count()
    )


def _reward_refusal(introduction: Introduction, *, now) -> str:
    """Why a fraud rule withholds the reward of a win; empty when none does."""
    if same_mailbox(introduction.friend_email or "", introduction.introducer.user.email):
        return gettext_noop("Self-introduction: the friend's address is the introducer's.")
    if introduction.friend_was_customer:
        return gettext_noop("The friend was already a customer when introduced.")
    cap = introduction.program.max_rewarded_introductions_per_month
    if _rewarded_this_month(introducer_id=introduction.introducer_id, now=now) >= cap:
        return gettext_noop("The introducer reached the monthly cap of rewarded introductions.")
    return ""


def _points_for_value(introduction: Introduction) -> int:
    per_unit = introduction.program.introduction_points_per_unit
    exact = (introduction.won_value or Decimal("0")) * per_unit
    return int(exact.quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def _reward_post(introduction: Introduction, *, now) -> None:
    """Post the introducer's reward of this win (the row is locked and just moved to won)."""
    program = introduction.program
    ref = str(introduction.public_id)
    key = f"introduction:{ref}:won:{introduction.won_count}"
    if program.introduction_reward_kind == IntroductionRewardKind.VOUCHER:
        reward = program.introduction_voucher_reward
        try:
            reward_take_one(reward=reward)
        except RewardUnavailable:
            introduction.reward_reason = gettext_noop("The voucher's reward is unavailable.")
            return
        introduction.reward_voucher = voucher_issue(customer=introduction.introducer, reward=reward)
        return
    if program.introduction_reward_kind == IntroductionRewardKind.PER_VALUE:
        points = _points_for_value(introduction)
    else:
        points = program.introduction_points
    if points <= 0:
        introduction.reward_reason = gettext_noop("The program's reward is no points.")
        return
    introduction.reward_transaction = ledger.points_award(
        customer=introduction.introducer,
        points=points,
        source=Account.System.REFERRAL_EXPENSE,
        settles_at=now + timedelta(days=program.hold_days),
        kind=Transaction.Kind.REFERRAL_REWARD,
        # Memos stay free of names: the ledger outlives an erasure untouched.
        memo=Memo(kind="introduction_reward"),
        idempotency_key=key,
        cause="introduction",
        cause_ref=ref,
    )


def _reward_take_back(introduction: Introduction, *, reason: str) -> None:
    """A move back from won: a held reward is voided, a settled one reversed."""
    ref = f"introduction:{introduction.public_id}:won:{introduction.won_count}"
    reward_take_back(txn=introduction.reward_transaction, reason=reason, key=f"{ref}:back")
    if introduction.reward_voucher is not None:
        # Used or expired already: a reward the introducer enjoyed is not taken back.
        with contextlib.suppress(VoucherError):
            voucher_void(voucher=introduction.reward_voucher, reason=reason, refund=False)
    introduction.reward_transaction = None
    introduction.reward_voucher = None


def introduction_move(
    *,
    introduction_id: int,
    to_status: str,
    staff: User,
    note: str,
    won_value: Decimal | None = None,
    path: str = "",
) -> Introduction:
    """Staff move an introduction the friend said yes to into another stage, with a note.

    Under the row's lock, so two staff moving it to won at once post one reward: the
    second finds it won and is refused. Won posts the introducer's reward held for the
    program's hold days (unless a fraud rule withholds it, with its reason); a move back
    from won voids or reverses it. The move is in the staff access trail.
    """
    note = note.strip()
    if not note:
        raise IntroductionError(_("Write a note about the move."), field="note")
    if to_status not in Introduction.STAGES:
        raise IntroductionError(_("Choose one of the stages."), field="stage")
    if won_value is not None and won_value < 0:
        raise IntroductionError(_("The won value can't be negative."), field="won_value")
    now = timezone.now()
    with transaction.atomic():
        # The reward's rows are read after the lock, not joined to it: a join would keep
        # the version from before a concurrent win committed (PostgreSQL re-reads only
        # the locked row), and a move back would miss the reward it must take back.
        introduction = (
            Introduction.objects.select_for_update(of=("self",))
            .select_related("introducer__user", "program")
            .get(pk=introduction_id)
        )
        from_status = introduction.status
        if from_status not in Introduction.STAGES:
            raise IntroductionError(_("The friend has not said yes to this introduction."))
        if from_status == to_status:
            raise IntroductionError(_("It is in this stage already."), field="stage")
        per_value = (
            introduction.program.introduction_reward_kind == IntroductionRewardKind.PER_VALUE
        )
        if to_status == Introduction.Status.WON and per_value and won_value is None:
            raise IntroductionError(
                _("Enter the won value: the introducer's reward follows it."), field="won_value"
            )
        if from_status == Introduction.Status.WON:
            _reward_take_back(
                introduction, reason=f"Introduction moved back from won to {to_status}: {note}"
            )
            introduction.reward_reason = ""
        introduction.status = to_status
        introduction.stage_changed_at = now
        introduction.first_reply_at = introduction.first_reply_at or now
        if to_status == Introduction.Status.WON:
            # The introducer's row lock serialises their wins, so the monthly cap counts each.
            Customer.objects.select_for_update().filter(pk=introduction.introducer_id).first()
            introduction.won_count += 1
            introduction.won_value = won_value
            introduction.reward_reason = _reward_refusal(introduction, now=now)
            if not introduction.reward_reason:
                _reward_post(introduction, now=now)
        introduction.save()
        IntroductionMove.objects.create(
            introduction=introduction,
            from_status=from_status,
            to_status=to_status,
            note=note,
            staff=staff,
        )
        staff_access_record(
            staff=staff,
            customer=introduction.introducer,
            action=StaffAccess.Action.CHANGE,
            path=path,
        )
        introduction_moved.send(
            sender=Introduction, introduction=introduction, from_status=from_status
        )
    return introduction


# Upkeep


def introductions_sweep(*, now=None) -> dict[str, int]:
    """Beat: hand on emails the broker lost, and forget the address of friends who did not
    answer within the answer days (the introduction ends unanswered; the hash stays)."""
    now = now or timezone.now()
    # Forgotten first, so that nobody is asked after their answer days have passed.
    cutoff = now - timedelta(days=settings.INTRODUCTION_ANSWER_DAYS)
    forgotten = Introduction.objects.filter(
        status=Introduction.Status.ASKING, created_at__lt=cutoff
    ).update(status=Introduction.Status.UNANSWERED, friend_email="", answered_at=now)
    stale = now - SWEEP_AFTER
    unsent = list(
        Introduction.objects.filter(
            status=Introduction.Status.ASKING, consent_sent_at__isnull=True, created_at__lt=stale
        ).values_list("pk", flat=True)[:1000]
    )
    for pk in unsent:
        enqueue_after_commit("referrals.tasks.email_introduction_consent", pk)
    unannounced = list(
        Introduction.objects.filter(
            status__in=Introduction.STAGES,
            contact_emailed_at__isnull=True,
            answered_at__lt=stale,
        ).values_list("pk", flat=True)[:1000]
    )
    for pk in unannounced:
        enqueue_after_commit("referrals.tasks.email_introduction_accepted", pk)
    return {"resent": len(unsent) + len(unannounced), "forgotten": forgotten}
