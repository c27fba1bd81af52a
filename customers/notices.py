"""The notification centre: what happened that a customer should know, shown in the portal.

The customers app owns the table and the services here; every app creates notices
from its own signals (in its own `notices.py`) and registers, with `notice_kind`,
how its kinds read. A notice keeps its kind and parameters, never a sentence: the
text is written when it is shown, in the reader's language, so a notice created by
a worker reads in German for a German reader.

Creation is idempotent: each notice names the event that caused it (`source_key`,
unique per customer), so a signal sent twice, or a task run again, adds nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.db.models import Expression, QuerySet
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.sql import insert_selected, insert_unless_taken
from customers.fragments import all_notices_changed, notices_changed
from customers.models import Connection, Customer, DataExport, Notice, User
from customers.privacy import DataSection
from customers.signals import (
    connection_confirmed,
    customer_erased,
    data_export_ready,
    personal_data_collect,
)

# Old notices are pruned by beat: the centre is news, not an archive (the ledger is that).
NOTICE_RETENTION = timedelta(days=180)
PAGE_SIZE = 20

_RENDERERS: dict[str, Callable[[Notice], str]] = {}


def notice_kind(kind: str) -> Callable[[Callable[[Notice], str]], Callable[[Notice], str]]:
    """Register how notices of `kind` read: a function of the notice that calls gettext."""

    def register(render: Callable[[Notice], str]) -> Callable[[Notice], str]:
        _RENDERERS[kind] = render
        return render

    return register


def notice_text(notice: Notice) -> str:
    """The notice's sentence in the active language."""
    render = _RENDERERS.get(notice.kind)
    if render is not None:
        try:
            return render(notice)
        except (KeyError, TypeError, ValueError):
            # Parameters an older release stored differently: a plain line beats a 500.
            pass
    return _("Something happened on your account.")


def actor_name(notice: Notice) -> str:
    """The name of the person a notice is about, as everyone sees it now (erased or not)."""
    if notice.actor is None:
        return _("A former member")
    return notice.actor.name


def _checked_url(url: str) -> str:
    # Rendered as a link on the customer's page: only paths of this site, never a scheme.
    if not url.startswith("/") or url.startswith("//"):
        raise ValueError(f"A notice links to a path of the portal, not {url!r}.")
    return url


# Writes


def notice_create(
    *,
    customer: Customer,
    kind: str,
    url: str,
    source_key: str,
    params: dict | None = None,
    actor: Customer | None = None,
) -> Notice | None:
    """Add a notice for the customer unless `source_key` made one already; None then.

    Called by receivers inside the sender's transaction: the unique constraint
    decides, without a savepoint, so a duplicate never dooms that transaction.
    Erased customers get none.
    """
    if customer.erased_at is not None:
        return None
    notice = Notice(
        customer=customer,
        kind=kind,
        params=params or {},
        actor=actor,
        url=_checked_url(url),
        source_key=source_key,
    )
    if not insert_unless_taken(notice):
        return None
    notices_changed(customer.pk)
    return notice


def notices_insert_selected(
    source: QuerySet,
    *,
    customer: Expression,
    kind: str,
    params: Expression,
    url: str,
    source_key: Expression,
) -> int:
    """One notice per row of `source`, written by the database in one statement (a
    settlement batch's thousands); the expressions are read from each row, and a row
    whose event already has its notice is skipped. Returns how many were written."""
    written = insert_selected(
        Notice,
        source,
        {
            "customer": customer,
            "kind": kind,
            "params": params,
            "url": _checked_url(url),
            "source_key": source_key,
            "created_at": timezone.now(),
        },
    )
    if written:
        all_notices_changed()
    return written


def notice_mark_read(*, customer: Customer, notice_id: int) -> bool:
    """Mark one of the customer's notices read; False if it is not theirs or was read."""
    marked = Notice.objects.filter(pk=notice_id, customer=customer, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    if marked:
        notices_changed(customer.pk)
    return bool(marked)


def notices_mark_all_read(*, customer: Customer) -> int:
    """Mark every unread notice of the customer read (one statement); returns how many."""
    marked = Notice.objects.filter(customer=customer, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    if marked:
        notices_changed(customer.pk)
    return marked


def notices_prune(*, now: datetime | None = None) -> int:
    """Delete notices older than the retention period, read or not; returns how many."""
    cutoff = (now or timezone.now()) - NOTICE_RETENTION
    deleted, _by_model = Notice.objects.filter(created_at__lt=cutoff).delete()
    if deleted:
        all_notices_changed()
    return deleted


# Reads


def unread_notice_count(*, user: User) -> int:
    """The bell's number: counted when the signed-in user was loaded (customers/backends.py),
    else one query, a seek in the (customer, read_at) index."""
    counted = getattr(user, "unread_notices", None)
    if counted is not None:
        return counted
    return Notice.objects.filter(customer__user_id=user.pk, read_at__isnull=True).count()


def customer_notices(*, customer: Customer) -> QuerySet[Notice]:
    """Newest first, with the people they are about (their names are read when shown)."""
    return Notice.objects.filter(customer=customer).select_related("actor__user")


# The customers app's own kinds


@notice_kind("connection_accepted")
def _connection_accepted_text(notice: Notice) -> str:
    return _("%(name)s accepted your friends-list request.") % {"name": actor_name(notice)}


@notice_kind("data_export_ready")
def _data_export_ready_text(notice: Notice) -> str:
    return _("Your data export is ready to download.")


@receiver(connection_confirmed, dispatch_uid="customers.notice_connection_accepted")
def _connection_accepted(sender, *, connection: Connection, **kwargs) -> None:
    notice_create(
        customer=connection.requester,
        kind="connection_accepted",
        actor=connection.addressee,
        url=reverse("customers:friends"),
        source_key=f"connection:{connection.pk}:{connection.responded_at.isoformat()}",
    )


@receiver(data_export_ready, dispatch_uid="customers.notice_data_export_ready")
def _data_export_ready(sender, *, export: DataExport, **kwargs) -> None:
    notice_create(
        customer=export.customer,
        kind="data_export_ready",
        url=reverse("customers:data"),
        source_key=f"export:{export.public_id}",
    )


# Data rights


@receiver(personal_data_collect, dispatch_uid="customers.notices_section")
def notices_section(sender, *, customer: Customer, **kwargs) -> DataSection:
    return DataSection(
        name="notices",
        models=(Notice,),
        records=[
            {
                "kind": notice.kind,
                "text": notice_text(notice),
                "params": notice.params,
                "url": notice.url,
                "created_at": notice.created_at,
                "read_at": notice.read_at,
            }
            for notice in customer_notices(customer=customer)
        ],
    )


@receiver(customer_erased, dispatch_uid="customers.notices_erase")
def notices_erase(sender, *, customer: Customer, **kwargs) -> None:
    """Notices are about the customer's own activity: they go with the rest (erasure drops
    every customer's notices version: customers/fragments.py)."""
    Notice.objects.filter(customer=customer).delete()
