"""Celery tasks: each takes ids, re-reads the rows and does nothing when the work is done."""

from __future__ import annotations

from celery import shared_task

from reviews.points import review_bonus_grant, review_bonuses_sweep
from reviews.questions import answer_bonus_grant
from reviews.surveys import survey_send, surveys_enqueue_due


@shared_task
def email_surveys_due() -> int:
    """Beat: enqueue one `email_survey` per survey whose `send_after` has passed."""
    return surveys_enqueue_due()


@shared_task
def email_survey(survey_id: int) -> bool:
    return survey_send(survey_id=survey_id)


@shared_task
def ledger_review_bonus(review_id: int) -> bool:
    return review_bonus_grant(review_id=review_id)


@shared_task
def ledger_review_bonuses_sweep() -> int:
    """Beat: the bonus of reviews whose task the broker lost."""
    return review_bonuses_sweep()


@shared_task
def ledger_answer_bonus(answer_id: int) -> bool:
    return answer_bonus_grant(answer_id=answer_id)
