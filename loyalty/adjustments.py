"""Staff adjustments: always with a reason and the staff member; big ones need a second person."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction as db_transaction
from django.utils import timezone

from customers.models import Customer, User
from loyalty.ledger import LedgerError, points_award, points_spend
from loyalty.memos import Memo
from loyalty.models import Account, AdjustmentRequest, Transaction


class AdjustmentError(LedgerError):
    """An adjustment that cannot be made or decided; the message is for staff."""


def _post(adjustment: AdjustmentRequest, actor: User) -> Transaction:
    details = {
        "kind": Transaction.Kind.ADJUST,
        "memo": Memo(kind="staff_adjustment"),
        "idempotency_key": f"adjustment:{adjustment.pk}",
        "cause": "staff adjustment",
        "cause_ref": str(adjustment.pk),
        "actor": actor,
        "reason": adjustment.reason,
    }
    if adjustment.points > 0:
        return points_award(
            customer=adjustment.customer,
            points=adjustment.points,
            source=Account.System.ADJUSTMENTS,
            **details,
        )
    return points_spend(
        customer=adjustment.customer,
        points=-adjustment.points,
        sink=Account.System.ADJUSTMENTS,
        **details,
    )


def adjustment_request(
    *, customer: Customer, points: int, reason: str, actor: User
) -> AdjustmentRequest:
    """Adjust a customer's points; above the approval threshold it waits for approval.

    Raises `AdjustmentError` without a reason or with 0 points, and
    `InsufficientPoints` when taking away more than they hold (nothing is recorded).
    """
    if not reason.strip():
        raise AdjustmentError("A reason is required.")
    if not points:
        raise AdjustmentError("Adjust by at least one point.")
    with db_transaction.atomic():
        adjustment = AdjustmentRequest.objects.create(
            customer=customer, points=points, reason=reason.strip(), requested_by=actor
        )
        if abs(points) > settings.LOYALTY_ADJUSTMENT_APPROVAL_THRESHOLD:
            return adjustment
        adjustment.transaction = _post(adjustment, actor)
        adjustment.status = AdjustmentRequest.Status.POSTED
        adjustment.decided_at = timezone.now()
        adjustment.save(update_fields=["transaction", "status", "decided_at"])
    return adjustment


def adjustment_decide(
    *, adjustment: AdjustmentRequest, actor: User, approve: bool
) -> AdjustmentRequest:
    """A second staff member approves (posts) or rejects a waiting adjustment, once."""
    if actor.pk == adjustment.requested_by_id:
        raise AdjustmentError("A second staff member must decide on this adjustment.")
    with db_transaction.atomic():
        claimed = AdjustmentRequest.objects.filter(
            pk=adjustment.pk, status=AdjustmentRequest.Status.PENDING
        ).update(
            status=AdjustmentRequest.Status.POSTED
            if approve
            else AdjustmentRequest.Status.REJECTED,
            decided_by=actor,
            decided_at=timezone.now(),
        )
        if not claimed:
            raise AdjustmentError("This adjustment was already decided.")
        adjustment.refresh_from_db()
        if approve:
            adjustment.transaction = _post(adjustment, actor)
            adjustment.save(update_fields=["transaction"])
    return adjustment
