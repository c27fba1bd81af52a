"""How a signed-in user is loaded for each request: with their customer profile, its
contact person and the bell's count of unread notices, in one query. Every portal page
shows all three (the header's bell, the page's customer), so loading them with the user
saves a page two round trips.
"""

from __future__ import annotations

from allauth.account.auth_backends import AuthenticationBackend
from django.contrib.auth.backends import ModelBackend
from django.db.models import Count, Q, QuerySet

from core.sql import first_compiled_once
from customers.models import User


def _signed_in(user_id: int) -> QuerySet[User]:
    return (
        User._default_manager.select_related("customer__contact_person")
        .annotate(
            unread_notices=Count("customer__notices", filter=Q(customer__notices__read_at=None))
        )
        .filter(pk=user_id)
    )


def signed_in_user(user_id) -> User | None:
    """The user with `customer` (and its contact person) and `unread_notices` loaded, by
    a statement compiled once per process (compiling it costs more than running it)."""
    return first_compiled_once(_signed_in, user_id=int(user_id))


class PortalUserLoading:
    """A backend's `get_user`, through `signed_in_user` (checks unchanged)."""

    def get_user(self, user_id):
        user = signed_in_user(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


class PortalModelBackend(PortalUserLoading, ModelBackend):
    """Django's backend (passwords by email, staff permissions)."""


class PortalAuthenticationBackend(PortalUserLoading, AuthenticationBackend):
    """allauth's backend (login by email, passkeys)."""
