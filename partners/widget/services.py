"""The widget's writes: a customer's redemption through it, and staff rotating its keys."""

from __future__ import annotations

import hashlib

from django.db import transaction

from customers.models import Customer, StaffAccess, User
from customers.privacy import staff_access_record
from customers.services import customer_for_user
from loyalty.models import Redemption, Reward
from loyalty.vouchers import reward_redeem
from partners.models import Partner, publishable_key_generate, widget_secret_generate


def widget_reward_redeem(
    *, partner: Partner, customer: Customer, reward: Reward, request_id: str
) -> Redemption:
    """Spend the signed-in customer's settled points on a reward through the widget.

    The script names each confirmed redemption with an id of its own, so a retried request
    (a flaky connection, a double click) redeems once. Raises `InsufficientPoints` or
    `RewardUnavailable` with nothing changed.
    """
    scope = f"{partner.public_id}:{customer.public_id}:{request_id}"
    key = hashlib.sha256(scope.encode()).hexdigest()
    return reward_redeem(customer=customer, reward=reward, idempotency_key=f"widget:{key}")


def widget_keys_rotate(*, partner: Partner, staff: User, path: str = "") -> Partner:
    """A new publishable key and signing secret (a leaked secret lets anyone sign in as any
    of the partner's customers): the old ones stop working at once. Recorded in the staff
    access trail against the staff member's own profile."""
    with transaction.atomic():
        partner.publishable_key = publishable_key_generate()
        partner.widget_secret = widget_secret_generate()
        partner.save(update_fields=["publishable_key", "widget_secret"])
        staff_access_record(
            staff=staff,
            customer=customer_for_user(user=staff),
            action=StaffAccess.Action.ROTATE_WIDGET_KEYS,
            path=path,
        )
    return partner
