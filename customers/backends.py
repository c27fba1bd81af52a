"""How a signed-in user is loaded for each request: with their customer profile, its
contact person and the bell's count of unread notices, in one query. Every portal page
shows all three (the header's bell, the page's customer), so loading them with the user
saves a page two round trips.
"""

from __future__ import annotations

import functools

from allauth.account.auth_backends import AuthenticationBackend
from django.contrib.auth.backends import ModelBackend
from django.db.models import Count, Q, QuerySet

from customers.models import User


@functools.cache
def _signed_in_users() -> QuerySet[User]:
    """Built once per process: resolving the join and the count costs more than the query."""
    return User._default_manager.select_related("customer__contact_person").annotate(
        unread_notices=Count("customer__notices", filter=Q(customer__notices__read_at=None))
    )


def signed_in_user(user_id) -> User | None:
    """The user with `customer` (and its contact person) and `unread_notices` loaded."""
    try:
        return _signed_in_users().get(pk=user_id)
    except User.DoesNotExist:
        return None


class PortalUserLoading:
    """A backend's `get_user`, through `signed_in_user` (checks unchanged)."""

    def get_user(self, user_id):
        user = signed_in_user(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


class PortalModelBackend(PortalUserLoading, ModelBackend):
    """Django's backend (passwords by email, staff permissions)."""


class PortalAuthenticationBackend(PortalUserLoading, AuthenticationBackend):
    """allauth's backend (login by email, passkeys)."""
