"""Friend invitations: create, send (with retries), open, resend, cancel, remind, expire, sweep.

A row is committed first and a Celery task sends it after the commit. Sending
claims the row with a compare-and-swap, so a redelivered task, a resend and the
sweeper never send the same invitation twice at once; every invitation ends
sent, bounced or failed, never silently queued forever (the sweeper re-enqueues
what the broker lost).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import smtplib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import get_connection
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.translation import gettext as _

from core.db import enqueue_after_commit
from core.emails import Email, email_deliver, email_render
from core.outbox import outbox_email_store
from core.sql import row_update
from customers.languages import language_for_recipient, languages_by_address
from customers.models import Customer
from referrals.fragments import invitations_changed, invitations_changing
from referrals.models import DisposableDomain, Invitation, InvitationRefusal, SuppressedEmail
from referrals.rules import email_canonical, email_key, is_suppressed
from referrals.selectors import friend_offer, program_active

MAX_ADDRESSES = 50
# Invitations per sending task: a whole paste, so that its email is rendered once, its
# mails share one SMTP connection and the per-task costs are paid once.
SEND_BATCH = MAX_ADDRESSES
DEFAULT_DAILY_CAP = 50
# How long a sender holds its claim on a row, longer than a batch takes even against a
# slow server; a worker killed mid-send frees its rows after this.
CLAIM_SECONDS = 600
SUPPRESS_SALT = "referrals.suppress"


class InvitationError(Exception):
    """An invitation request refused as a whole; the message is for the customer."""


@dataclass
class InviteOutcome:
    invited: list[Invitation] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)


def invitation_token(invitation: Invitation) -> str:
    """The secret in the invitation's link: derived from the row and SECRET_KEY, never stored."""
    return salted_hmac(
        "referrals.invitation",
        f"{invitation.public_id}:{invitation.token_salt}",
        algorithm="sha256",
    ).hexdigest()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_accept_url(invitation: Invitation) -> str:
    return settings.SITE_URL + reverse("referrals:invitation", args=[invitation_token(invitation)])


def suppress_url(email: str) -> str:
    # A plain (untimed) signature: the link keeps working for as long as the email is kept.
    signed = signing.Signer(salt=SUPPRESS_SALT).sign(email_key(email))
    return settings.SITE_URL + reverse("referrals:suppress", args=[signed])


def addresses_parse(raw: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Split a paste on commas, spaces, semicolons and newlines; report bad lines one by one."""
    tokens = [token.strip("<>\"'") for token in re.split(r"[\s,;]+", raw or "") if token]
    if len(tokens) > MAX_ADDRESSES:
        limit = {"max": MAX_ADDRESSES}
        raise InvitationError(_("Up to %(max)d addresses at once, please.") % limit)
    good: list[str] = []
    refused: list[tuple[str, str]] = []
    seen: set[str] = set()
    for token in tokens:
        try:
            validate_email(token)
        except ValidationError:
            refused.append((token, _("This is not a valid email address.")))
            continue
        canonical = email_canonical(token)
        if canonical in seen:
            refused.append((token, _("This address is listed twice.")))
            continue
        seen.add(canonical)
        good.append(token.lower())
    if not tokens:
        raise InvitationError(_("Enter at least one email address."))
    return good, refused


def _refusals(*, sender: Customer, addresses: list[str]) -> dict[str, str]:
    """Why some addresses of a paste cannot be invited: two queries for the whole paste.

    Suppressed and disposable addresses get the same words, so the sender does
    not learn that someone opted out; a member's address is invited like any other,
    so the sender does not learn who is a member.
    """
    own = email_canonical(sender.user.email)
    suppressed = set(
        SuppressedEmail.objects.filter(
            email_key__in=[email_key(address) for address in addresses]
        ).values_list("email_key", flat=True)
    )
    disposable = set(
        DisposableDomain.objects.filter(
            domain__in={address.rpartition("@")[2] for address in addresses}
        ).values_list("domain", flat=True)
    )
    refusals = {}
    for address in addresses:
        if email_canonical(address) == own:
            refusals[address] = _("That's your own address.")
        elif email_key(address) in suppressed or address.rpartition("@")[2] in disposable:
            refusals[address] = _("This address can't be invited.")
    return refusals


def _enqueue(invitation_ids: list[int]) -> None:
    """Hand the rows to Celery after the commit, in batches that share one SMTP connection.

    If the broker is down the rows stay queued and the sweeper sends them later.
    """
    for start in range(0, len(invitation_ids), SEND_BATCH):
        enqueue_after_commit(
            "referrals.tasks.email_invitations_send", invitation_ids[start : start + SEND_BATCH]
        )


def _used_today(*, sender: Customer, since) -> int:
    """Addresses the sender had looked at since `since`: invitations made and refused."""
    invited = Invitation.objects.filter(sender=sender, created_at__gte=since).count()
    refused = InvitationRefusal.objects.filter(sender=sender, created_at__gte=since).aggregate(
        total=Coalesce(Sum("addresses"), 0)
    )["total"]
    return invited + refused


def invitations_create(*, sender: Customer, addresses: str, note: str = "") -> InviteOutcome:
    """Invite friends by email; good addresses go even when others in the paste are refused.

    Every valid address counts against the daily cap, invited or refused, so that
    refusals cannot be used to look up addresses for free; past the cap nothing is
    looked up at all.
    """
    good, refused = addresses_parse(addresses)
    outcome = InviteOutcome(refused=refused)
    program = program_active()
    daily_cap = program.max_invitations_per_day if program else DEFAULT_DAILY_CAP
    now = timezone.now()
    with transaction.atomic():
        # The sender's row lock serialises their concurrent pastes, so the daily cap holds.
        Customer.objects.select_for_update().filter(pk=sender.pk).first()
        allowed = max(daily_cap - _used_today(sender=sender, since=now - timedelta(days=1)), 0)
        within, beyond = good[:allowed], good[allowed:]
        refusals = _refusals(sender=sender, addresses=within) if within else {}
        refused_within = 0
        for address in within:
            reason = refusals.get(address)
            if reason is None:
                invitation = Invitation(
                    sender=sender,
                    email=address,
                    email_key=email_key(address),
                    note=note.strip(),
                    token_salt=secrets.token_hex(16),
                    queued_at=now,
                )
                invitation.token_hash = _token_hash(invitation_token(invitation))
                try:
                    with transaction.atomic():
                        invitation.save()
                except IntegrityError:
                    reason = _("You already invited this person; they haven't answered yet.")
                else:
                    outcome.invited.append(invitation)
            if reason is not None:
                outcome.refused.append((address, reason))
                refused_within += 1
        limit = _("You reached today's invitation limit; try again tomorrow.")
        outcome.refused.extend((address, limit) for address in beyond)
        if refused_within:
            InvitationRefusal.objects.create(sender=sender, addresses=refused_within)
        if outcome.invited:
            invitations_changed(sender.pk)
        _enqueue([invitation.pk for invitation in outcome.invited])
    return outcome


@dataclass(frozen=True)
class SendOutcome:
    status: str
    retry_in: int | None = None


def _backoff(attempts: int) -> int:
    return settings.EMAIL_RETRY_BACKOFF * 2 ** max(attempts - 1, 0)


def _is_bounce(error: Exception) -> bool:
    """A permanent refusal of the recipient (5xx) means the address does not take mail."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _message in error.recipients.values())
    return False


def invitations_send(*, invitation_ids: list[int]) -> dict[int, SendOutcome]:
    """Send a batch of queued invitations over one SMTP connection; outcomes by id.

    The batch is claimed with one compare-and-swap (the claim's timestamp marks
    the rows it won); each row is marked sent as soon as its mail is accepted.
    """
    now = timezone.now()
    claim = now + timedelta(seconds=CLAIM_SECONDS)
    Invitation.objects.filter(pk__in=invitation_ids, status=Invitation.Status.QUEUED).filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    ).update(claimed_until=claim, attempts=F("attempts") + 1)
    claimed = list(
        Invitation.objects.select_related("sender__user").filter(
            pk__in=invitation_ids, status=Invitation.Status.QUEUED, claimed_until=claim
        )
    )
    outcomes = dict.fromkeys(invitation_ids, SendOutcome(status="skipped"))
    if not claimed:
        return outcomes
    offer = friend_offer()
    languages = languages_by_address([invitation.email for invitation in claimed])
    mails: dict[tuple[int, str, str], _MergedMail] = {}
    smtp = get_connection()
    unreachable: OSError | None = None
    try:
        for invitation in claimed:
            if unreachable is None:
                try:
                    smtp.open()  # once for the batch, and again after a broken connection
                except OSError as error:
                    smtp.close()
                    unreachable = error
            if unreachable is not None:
                # Not tried: the rest of the batch waits for its retry instead of each
                # send waiting for a connection timeout of its own.
                outcomes[invitation.pk] = _send_failed(invitation, unreachable)
                continue
            # A batch is usually one paste: one sender, one note, so rendered once per language.
            language = _invitee_language(invitation, languages)
            key = (invitation.sender_id, invitation.note, language)
            if key not in mails:
                mails[key] = _merged_mail(
                    invitation, template="referrals/invitation", offer=offer, language=language
                )
            outcomes[invitation.pk] = _send_claimed(invitation, smtp=smtp, mail=mails[key])
    finally:
        smtp.close()
        invitations_changed(*{invitation.sender_id for invitation in claimed})
    return outcomes


def invitation_send(*, invitation_id: int) -> SendOutcome:
    """Send one queued invitation (see `invitations_send`)."""
    return invitations_send(invitation_ids=[invitation_id])[invitation_id]


def _send_claimed(invitation: Invitation, *, smtp, mail: _MergedMail) -> SendOutcome:
    try:
        _deliver(invitation, mail=mail, smtp=smtp)
    except OSError as error:  # smtplib.SMTPException is an OSError, as are refused connections
        # A broken connection is reopened by the next send of the batch.
        smtp.close()
        return _send_failed(invitation, error)
    _mark_sent(invitation)
    return SendOutcome(status=Invitation.Status.SENT)


def _mark_sent(invitation: Invitation) -> None:
    """Record an accepted mail before the next is sent: a worker killed mid-batch sends
    again at most the mail in flight. Written out (core/sql.py), as it runs once per
    mail and the ORM's compiling of the update costs more than the update."""
    row_update(
        Invitation,
        invitation.pk,
        {
            "status": Invitation.Status.SENT,
            "sent_at": timezone.now(),
            "claimed_until": None,
            "last_error": "",
        },
        where={"status": Invitation.Status.QUEUED},
    )


def _send_failed(invitation: Invitation, error: OSError) -> SendOutcome:
    """Record a failed attempt: bounced, failed for good, or queued again after a backoff."""
    finished = timezone.now()
    if _is_bounce(error):
        status, retry_in = Invitation.Status.BOUNCED, None
    elif invitation.attempts >= settings.INVITATION_SEND_ATTEMPTS:
        status, retry_in = Invitation.Status.FAILED, None
    else:
        status, retry_in = Invitation.Status.QUEUED, _backoff(invitation.attempts)
    Invitation.objects.filter(pk=invitation.pk, status=Invitation.Status.QUEUED).update(
        status=status,
        last_error=f"{type(error).__name__}: {error}"[:255],
        claimed_until=None,
        next_attempt_at=finished + timedelta(seconds=retry_in) if retry_in else None,
        finished_at=None if retry_in else finished,
    )
    return SendOutcome(status=status, retry_in=retry_in)


@dataclass(frozen=True)
class _MergedMail:
    """An invitation email rendered once for all the friends one sender invites with one
    note: each friend's own links stand as markers, replaced in the rendered text."""

    email: Email
    accept_marker: str
    suppress_marker: str

    def email_for(self, *, accept_url: str, suppress_url: str) -> Email:
        def fill(text: str, quote: Callable[[str], str]) -> str:
            return text.replace(self.accept_marker, quote(accept_url)).replace(
                self.suppress_marker, quote(suppress_url)
            )

        return Email(
            subject=self.email.subject,
            body=fill(self.email.body, str),
            html=fill(self.email.html, escape),
        )


def _invitee_language(invitation: Invitation, languages: dict[str, str]) -> str:
    """A member's own language; for a stranger, the one of the friend who invites them."""
    return languages.get(invitation.email.lower()) or language_for_recipient(invitation.sender)


def _merged_mail(
    invitation: Invitation, *, template: str, offer: str, language: str
) -> _MergedMail:
    """Render `template` for the invitation's sender and note.

    The context holds nothing of the friend's, so no friend's details can reach another's
    email; the markers are random, so no note can contain them.
    """
    marker = secrets.token_hex(8)
    accept, stop = f"merge-{marker}-accept", f"merge-{marker}-suppress"
    email = email_render(
        template=template,
        context={
            "sender": invitation.sender,
            "note": invitation.note,
            "offer": offer,
            "accept_url": accept,
            "suppress_url": stop,
        },
        language=language,
    )
    return _MergedMail(email=email, accept_marker=accept, suppress_marker=stop)


def _unsubscribe_headers(url: str) -> dict[str, str]:
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def invitation_message_id(invitation: Invitation) -> str:
    """The Message-ID of an invitation's email, the same on every attempt: the row is the
    invitation's outbox, so a copy sent twice is recognisable."""
    return f"<invitation.{invitation.public_id}@{urlsplit(settings.SITE_URL).hostname}>"


def _deliver(invitation: Invitation, *, mail: _MergedMail, smtp=None) -> None:
    stop = suppress_url(invitation.email)
    email_deliver(
        to=invitation.email,
        email=mail.email_for(accept_url=invitation_accept_url(invitation), suppress_url=stop),
        headers={**_unsubscribe_headers(stop), "Message-ID": invitation_message_id(invitation)},
        connection=smtp,
    )


def invitation_by_token(*, token: str) -> Invitation | None:
    """The invitation a link stands for, if the link still works (open and not expired)."""
    invitation = (
        Invitation.objects.select_related("sender__user")
        .filter(token_hash=_token_hash(token), status__in=Invitation.OPEN_STATUSES)
        .first()
    )
    expiry = timedelta(days=settings.INVITATION_EXPIRY_DAYS)
    if invitation is None or invitation.queued_at + expiry < timezone.now():
        return None
    return invitation


def invitation_open(*, token: str) -> Invitation | None:
    """The friend followed the link in the mail: sent becomes opened (no tracking pixel)."""
    invitation = invitation_by_token(token=token)
    if invitation is not None and invitation.status == Invitation.Status.SENT:
        now = timezone.now()
        if Invitation.objects.filter(pk=invitation.pk, status=Invitation.Status.SENT).update(
            status=Invitation.Status.OPENED, opened_at=now
        ):
            invitations_changed(invitation.sender_id)
        invitation.status, invitation.opened_at = Invitation.Status.OPENED, now
    return invitation


def invitation_resend(*, invitation: Invitation, sender: Customer) -> Invitation:
    """Queue an invitation again, once the cool-down since its last sending has passed."""
    if invitation.sender_id != sender.pk:
        raise InvitationError(_("This is not your invitation."))
    allowed_at = invitation.resend_allowed_at
    if allowed_at is None:
        raise InvitationError(_("This invitation can't be sent again."))
    if allowed_at > timezone.now():
        raise InvitationError(
            _("You sent this one recently. You can send it again from %(when)s.")
            % {"when": date_format(timezone.localtime(allowed_at), "DATETIME_FORMAT")}
        )
    if is_suppressed(invitation.email):
        raise InvitationError(_("This address can't be invited."))
    now = timezone.now()
    with transaction.atomic():
        try:
            with transaction.atomic():
                changed = Invitation.objects.filter(
                    pk=invitation.pk, status=invitation.status
                ).update(
                    status=Invitation.Status.QUEUED,
                    queued_at=now,
                    attempts=0,
                    next_attempt_at=None,
                    claimed_until=None,
                    finished_at=None,
                    last_error="",
                )
        except IntegrityError:
            raise InvitationError(_("You already invited this person again.")) from None
        if not changed:
            raise InvitationError(_("This invitation changed meanwhile; reload the page."))
        invitations_changed(sender.pk)
        _enqueue([invitation.pk])
    invitation.refresh_from_db()
    return invitation


def invitation_cancel(*, invitation: Invitation, sender: Customer) -> Invitation:
    if invitation.sender_id != sender.pk:
        raise InvitationError(_("This is not your invitation."))
    changed = Invitation.objects.filter(
        pk=invitation.pk, status__in=Invitation.OPEN_STATUSES
    ).update(status=Invitation.Status.CANCELLED, finished_at=timezone.now(), claimed_until=None)
    if not changed:
        raise InvitationError(_("Only invitations waiting for an answer can be cancelled."))
    invitations_changed(sender.pk)
    invitation.refresh_from_db()
    return invitation


def email_suppress(*, signed: str) -> bool:
    """'Don't invite me again': the address's hash joins the suppression list for good."""
    try:
        key = signing.Signer(salt=SUPPRESS_SALT).unsign(signed)
    except signing.BadSignature:
        return False
    SuppressedEmail.objects.get_or_create(email_key=key)
    return True


def invitations_sweep() -> int:
    """Re-enqueue invitations left queued (the broker was down or lost them); returns how many.

    Each one is stamped so that the next sweep waits again before re-sending it.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=settings.INVITATION_SWEEP_AFTER_SECONDS)
    with transaction.atomic():
        ids = list(
            Invitation.objects.filter(status=Invitation.Status.QUEUED)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .annotate(due=Coalesce("next_attempt_at", "queued_at"))
            .filter(due__lte=stale)
            .values_list("pk", flat=True)[:5000]
        )
        Invitation.objects.filter(pk__in=ids).update(next_attempt_at=now)
        _enqueue(ids)
    return len(ids)


def invitations_remind_due() -> int:
    """Queue the one reminder of invitations unanswered after the reminder delay."""

    now = timezone.now()
    due = Invitation.objects.filter(
        status__in=[Invitation.Status.SENT, Invitation.Status.OPENED],
        reminded_at__isnull=True,
        sent_at__lte=now - timedelta(days=settings.INVITATION_REMINDER_DAYS),
    ).values_list("pk", flat=True)[:5000]
    reminded = 0
    for pk in list(due):
        # The claim and the reminder in the outbox commit together: neither without the other.
        with transaction.atomic():
            if Invitation.objects.filter(pk=pk, reminded_at__isnull=True).update(reminded_at=now):
                invitation_remind_send(invitation_id=pk)
                reminded += 1
    return reminded


def invitation_remind_send(*, invitation_id: int) -> bool:
    """Send the reminder if the invitation still waits and the address has not opted out."""
    invitation = Invitation.objects.select_related("sender__user").get(pk=invitation_id)
    if invitation.status not in (Invitation.Status.SENT, Invitation.Status.OPENED):
        return False
    if is_suppressed(invitation.email):
        return False
    language = _invitee_language(invitation, languages_by_address([invitation.email]))
    mail = _merged_mail(
        invitation, template="referrals/reminder", offer=friend_offer(), language=language
    )
    stop = suppress_url(invitation.email)
    email = mail.email_for(accept_url=invitation_accept_url(invitation), suppress_url=stop)
    outbox_email_store(
        to=invitation.email,
        subject=email.subject,
        body=email.body,
        html=email.html,
        headers=_unsubscribe_headers(stop),
    )
    return True


def invitations_expire() -> int:
    """Unanswered invitations expire after the configured days; their links stop working.

    Counts of refused addresses are dropped once they no longer weigh on a daily cap.
    """
    InvitationRefusal.objects.filter(created_at__lt=timezone.now() - timedelta(days=1)).delete()
    cutoff = timezone.now() - timedelta(days=settings.INVITATION_EXPIRY_DAYS)
    due = Invitation.objects.filter(
        status__in=[Invitation.Status.SENT, Invitation.Status.OPENED], queued_at__lte=cutoff
    )
    with invitations_changing(due):
        return due.update(status=Invitation.Status.EXPIRED, finished_at=timezone.now())
