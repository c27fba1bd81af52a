"""Celery tasks: each takes ids, re-reads the rows and does nothing when the work is done."""

from __future__ import annotations

from celery import shared_task

from customers.tasks import EMAIL_RETRY
from reviews.alerts import feedback_alert_send
from reviews.points import review_bonus_grant, review_bonuses_sweep
from reviews.questions import answer_asker_tell, answer_bonus_grant, answer_requests_send
from reviews.surveys import survey_send, surveys_enqueue_due


@shared_task
def email_surveys_due() -> int:
    """Beat: enqueue one `email_survey` per survey whose `send_after` has passed."""
    return surveys_enqueue_due()


@shared_task(**EMAIL_RETRY)
def email_survey(survey_id: int) -> bool:
    return survey_send(survey_id=survey_id)


@shared_task(**EMAIL_RETRY)
def email_feedback_alert(alert_id: int) -> bool:
    return feedback_alert_send(alert_id=alert_id)


@shared_task
def ledger_review_bonus(review_id: int) -> bool:
    return review_bonus_grant(review_id=review_id)


@shared_task
def ledger_review_bonuses_sweep() -> int:
    """Beat: the bonus of reviews whose task the broker lost."""
    return review_bonuses_sweep()


@shared_task(**EMAIL_RETRY)
def email_answer_requests(question_id: int) -> int:
    return answer_requests_send(question_id=question_id)


@shared_task(**EMAIL_RETRY)
def email_question_answered(answer_id: int) -> bool:
    return answer_asker_tell(answer_id=answer_id)


@shared_task
def ledger_answer_bonus(answer_id: int) -> bool:
    return answer_bonus_grant(answer_id=answer_id)
