"""Celery tasks of the referrals app: thin wrappers that take ids and call a service.

Names decide queues (CELERY_TASK_ROUTES): `email_*` go to the email queue.
"""

from __future__ import annotations

from celery import shared_task

from referrals import introductions, invitations, privacy


@shared_task
def email_invitations_send(invitation_ids: list[int]) -> dict[int, str]:
    """Send a batch of invitations; temporary SMTP failures are retried later, together
    when they are due together (a server that was down for the whole batch).

    Attempts are counted on the row (not by Celery), so retries, a redelivery and
    the sweeper share one budget, with exponential backoff, and the row ends
    sent, bounced or failed.
    """
    outcomes = invitations.invitations_send(invitation_ids=invitation_ids)
    retries: dict[int, list[int]] = {}
    for invitation_id, outcome in outcomes.items():
        if outcome.retry_in is not None:
            retries.setdefault(outcome.retry_in, []).append(invitation_id)
    for retry_in, ids in retries.items():
        email_invitations_send.apply_async((ids,), countdown=retry_in)
    return {invitation_id: outcome.status for invitation_id, outcome in outcomes.items()}


@shared_task
def invitations_sweep() -> int:
    """Beat: re-enqueue invitations the broker lost."""
    return invitations.invitations_sweep()


@shared_task
def invitations_remind() -> int:
    """Beat: queue the one reminder of unanswered invitations."""
    return invitations.invitations_remind_due()


@shared_task
def invitations_expire() -> int:
    """Beat: expire unanswered invitations."""
    return invitations.invitations_expire()


@shared_task
def invitees_forget() -> int:
    """Beat: forget addresses of invitees who never joined, once the retention has passed."""
    return privacy.invitees_forget()


@shared_task
def email_introduction_consent(introduction_id: int) -> bool:
    """Ask the introduced friend for their yes."""
    return introductions.introduction_consent_send(introduction_id=introduction_id)


@shared_task
def email_introduction_accepted(introduction_id: int) -> bool:
    """After the friend's yes: tell the contact person and the friend about each other."""
    return introductions.introduction_accepted_send(introduction_id=introduction_id)


@shared_task
def introductions_sweep() -> dict[str, int]:
    """Beat: introduction emails the broker lost; friends' addresses after no answer."""
    return introductions.introductions_sweep()
