"""Cached fragments of a customer's vouchers and of the rewards catalog, dropped whenever a
voucher or a reward changes: through the model's save (an issue, an edit in the admin) or
by the services that change them with a set-based update (use, cancel, expiry, stock).

The balance and tier are keyed on the ledger's own version (`Balance.version`).
"""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from core.fragments import fragment_version_drop, fragment_versions
from customers.models import Customer
from loyalty.models import Reward, Voucher
from loyalty.selectors import Balance
from loyalty.tiers import tier_list

CATALOG = "loyalty:catalog"
# Every customer's vouchers at once (the expiry of vouchers past their date).
ALL_VOUCHERS = "loyalty:vouchers"
# A reward's dates opening or closing it send nothing: they show within this many seconds.
CATALOG_FRAGMENT_SECONDS = 60
VOUCHERS_FRAGMENT_SECONDS = 3600


def _vouchers_of(customer_id: int) -> str:
    return f"loyalty:vouchers:{customer_id}"


def vouchers_version(customer: Customer) -> str:
    """The version of the customer's vouchers that pages key their fragments on."""
    return fragment_versions(_vouchers_of(customer.pk), ALL_VOUCHERS)


def points_version(balance: Balance) -> str:
    """The version of what pages show of a customer's points and tier: the version of their
    ledger (read with the balance) and of the tier list."""
    return f"{balance.version}:{tier_list().version}"


def catalog_version() -> str:
    """The version of the rewards on offer."""
    return fragment_versions(CATALOG)


def vouchers_changed(customer_id: int) -> None:
    fragment_version_drop(_vouchers_of(customer_id))


def all_vouchers_changed() -> None:
    fragment_version_drop(ALL_VOUCHERS)


def catalog_changed() -> None:
    fragment_version_drop(CATALOG)


@receiver([post_save, post_delete], sender=Voucher, dispatch_uid="loyalty.fragments.voucher")
def _voucher_saved(sender, instance: Voucher, **kwargs) -> None:
    vouchers_changed(instance.customer_id)


@receiver([post_save, post_delete], sender=Reward, dispatch_uid="loyalty.fragments.reward")
def _reward_saved(sender, instance: Reward, **kwargs) -> None:
    catalog_changed()
    # A voucher shows its reward's name.
    all_vouchers_changed()
