"""Cached fragments of a customer's friends list and notification centre: the versions pages
key them on, and the drops when the data changes (the service functions that write
with `.update()` call these; the receivers here catch saves, deletes and erasure).

A pending request is on the addressee's page only: asking someone drops the addressee's
version and never the requester's, so that the requester's next page costs the same
whether or not the address they asked belongs to a member.
"""

from __future__ import annotations

from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from core.fragments import fragment_version_drop, fragment_versions
from customers.models import Connection, Customer
from customers.signals import customer_erased

# Friends' names (changed on their own profiles, without a drop here) show within this.
FRIENDS_FRAGMENT_SECONDS = 300
# The names of the people notices are about, when they change them or staff delete them,
# show within this.
NOTICES_FRAGMENT_SECONDS = 300

# Notices written for many customers in one statement (a settlement batch) or removed
# across customers (pruning, erasure) drop every customer's notices at once.
ALL_NOTICES = "notices"


def friends_name(customer_id: int) -> str:
    """The name of the version of the customer's friends list (a page keyed on several reads
    them in one round trip with `fragment_versions`)."""
    return f"friends:{customer_id}"


def _notices(customer_id: int) -> str:
    return f"notices:{customer_id}"


def friends_version(customer: Customer) -> str:
    """The version of what the customer's pages show of their friends list: the confirmed
    friends and the requests waiting for their answer."""
    return fragment_versions(friends_name(customer.pk))


def friends_changed(*customer_ids: int) -> None:
    """The friends lists of these customers changed."""
    fragment_version_drop(*map(friends_name, customer_ids))


def _connection_changed(connection: Connection) -> None:
    # A pending request is on the addressee's page alone; a connection in any other state
    # may be on both. (Staff putting a confirmed connection back to pending is the one change
    # that reaches the requester's list late, within FRIENDS_FRAGMENT_SECONDS.)
    if connection.status == Connection.Status.PENDING:
        friends_changed(connection.addressee_id)
    else:
        friends_changed(connection.requester_id, connection.addressee_id)


def notices_version(customer: Customer) -> str:
    """The version of the customer's notices (their rows and which are read)."""
    return fragment_versions(ALL_NOTICES, _notices(customer.pk))


def notices_changed(customer_id: int) -> None:
    """One customer's notices changed."""
    fragment_version_drop(_notices(customer_id))


def all_notices_changed() -> None:
    """Notices of any number of customers changed in one statement."""
    fragment_version_drop(ALL_NOTICES)


@receiver(post_save, sender=Connection, dispatch_uid="customers.fragments.connection_saved")
@receiver(post_delete, sender=Connection, dispatch_uid="customers.fragments.connection_deleted")
def _connection_saved_or_deleted(sender, *, instance: Connection, **kwargs) -> None:
    """Asked, confirmed, removed through the services, edited by staff, or deleted with
    a customer (answers are a conditional update: `connection_respond` drops them)."""
    _connection_changed(instance)


@receiver(customer_erased, dispatch_uid="customers.fragments.customer_erased")
def _customer_erased(sender, *, customer: Customer, **kwargs) -> None:
    """Their friends see "a former member" at once, and so does everyone whose notices name
    them; the apps above remove notices about them in the same transaction."""
    pairs = Connection.objects.filter(Q(requester=customer) | Q(addressee=customer)).values_list(
        "requester_id", "addressee_id"
    )
    friends_changed(customer.pk, *(customer_id for pair in pairs for customer_id in pair))
    all_notices_changed()
