"""Webhook events from the lower apps' signals (see each app's signals.py).

Each receiver runs inside the sender's database transaction, so the events
commit (or roll back) with the change they announce.
"""

from __future__ import annotations

import uuid

from django.db.models import QuerySet
from django.dispatch import receiver

from loyalty.ledger import credited_points
from loyalty.models import Entry, Transaction
from loyalty.signals import (
    transaction_reversed,
    transaction_voided,
    transactions_settled,
    voucher_issued,
)
from partners.models import PartnerCustomer, WebhookEvent
from partners.serializers import timestamp
from partners.webhooks import webhook_emit
from referrals.signals import referral_qualified
from reviews.signals import review_published


def _reward_items(
    transactions: QuerySet[Transaction], *, credits_only: bool = True
) -> list[tuple[int, dict]]:
    """The customer's credit in each transaction (with `credits_only=False`, every customer's
    entry: a reversal takes points), as event data, for customers a partner with webhooks
    knows (settlement batches are large; most customers have no partner)."""
    entries = Entry.objects.filter(transaction__in=transactions)
    if credits_only:
        entries = entries.filter(amount__gt=0)
    credits = entries.filter(
        account__customer__in=PartnerCustomer.objects.filter(
            partner__active=True, partner__webhook_url__gt=""
        ).values("customer"),
    ).values(
        "amount",
        "account__customer_id",
        "account__customer__public_id",
        "transaction__public_id",
        "transaction__kind",
        "transaction__status",
        "transaction__memo",
        "transaction__posted_at",
        "transaction__voided_at",
    )
    return [
        (
            credit["account__customer_id"],
            {
                "transaction": str(credit["transaction__public_id"]),
                "customer": str(credit["account__customer__public_id"]),
                "kind": credit["transaction__kind"],
                "status": credit["transaction__status"],
                "points": credit["amount"],
                "memo": credit["transaction__memo"],
                "settled_at": timestamp(credit["transaction__posted_at"]),
                "voided_at": timestamp(credit["transaction__voided_at"]),
            },
        )
        for credit in credits
    ]


@receiver(transactions_settled, dispatch_uid="partners.reward_settled")
def reward_settled(sender, *, batch: uuid.UUID, **kwargs) -> None:
    webhook_emit(
        type=WebhookEvent.Type.REWARD_SETTLED,
        items=_reward_items(Transaction.objects.filter(settlement_batch=batch)),
    )


@receiver(transaction_voided, dispatch_uid="partners.reward_voided")
def reward_voided(sender, *, transaction: Transaction, **kwargs) -> None:
    webhook_emit(
        type=WebhookEvent.Type.REWARD_VOIDED,
        items=_reward_items(Transaction.objects.filter(pk=transaction.pk)),
    )


@receiver(transaction_reversed, dispatch_uid="partners.reward_reversed")
def reward_reversed(sender, *, reversal: Transaction, **kwargs) -> None:
    webhook_emit(
        type=WebhookEvent.Type.REWARD_REVERSED,
        items=_reward_items(Transaction.objects.filter(pk=reversal.pk), credits_only=False),
    )


@receiver(voucher_issued, dispatch_uid="partners.voucher_issued")
def voucher_issued_event(sender, *, voucher, **kwargs) -> None:
    data = {
        "code": voucher.code,
        "status": voucher.status,
        "reward": str(voucher.reward.public_id),
        "customer": str(voucher.customer.public_id),
        "expires_at": timestamp(voucher.expires_at),
    }
    webhook_emit(type=WebhookEvent.Type.VOUCHER_ISSUED, items=[(voucher.customer_id, data)])


@receiver(referral_qualified, dispatch_uid="partners.referral_qualified")
def referral_qualified_event(sender, *, referral, **kwargs) -> None:
    """Told to the partners of the referrer and of the friend (each partner once)."""
    reward = referral.reward_transaction
    data = {
        "referral": str(referral.public_id),
        "referrer": str(referral.referrer.public_id),
        "customer": str(referral.referee.public_id),
        "conversion": str(referral.conversion.public_id) if referral.conversion else None,
        "reward": {
            "points": credited_points(reward),
            "status": reward.status,
            "settles_at": timestamp(reward.settles_at),
        }
        if reward
        else None,
    }
    webhook_emit(
        type=WebhookEvent.Type.REFERRAL_QUALIFIED,
        items=[(referral.referrer_id, data), (referral.referee_id, data)],
        once_per_partner=True,
    )


@receiver(review_published, dispatch_uid="partners.review_published")
def review_published_event(sender, *, review, **kwargs) -> None:
    data = {
        "review": str(review.public_id),
        "subject": review.subject.slug,
        "customer": str(review.author.public_id),
        "rating": review.rating,
        "title": review.title,
        "verified_purchase": review.verified_purchase,
    }
    webhook_emit(type=WebhookEvent.Type.REVIEW_PUBLISHED, items=[(review.author_id, data)])
