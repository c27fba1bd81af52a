"""The moderation step reviews, questions and answers share: publish or reject a row,
each once, by compare-and-swap, so two moderators (or a moderator and the automatic
publication) never announce one change twice. The caller runs it inside its transaction
and announces the change when it returns True."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import User


def moderated_publish(item: models.Model, *, by: User | None, now: datetime) -> bool:
    """Mark `item` published by `by` at `now`, unless it already is; the instance follows."""
    published = type(item).Status.PUBLISHED
    changed = (
        type(item)
        .objects.filter(pk=item.pk)
        .exclude(status=published)
        .update(
            status=published,
            rejection_reason="",
            moderated_by=by,
            moderated_at=now,
            published_at=now,
        )
    )
    if changed:
        item.status, item.rejection_reason = published, ""
        item.moderated_by, item.moderated_at, item.published_at = by, now, now
    return bool(changed)


def moderated_reject(item: models.Model, *, by: User, reason: str) -> bool:
    """Mark `item` rejected with a reason its author reads, unless it already is; the
    instance is read again. An empty reason is refused before anything changes."""
    if not reason.strip():
        raise ValidationError({"rejection_reason": _("Tell the author why.")})
    rejected = type(item).Status.REJECTED
    changed = (
        type(item)
        .objects.filter(pk=item.pk)
        .exclude(status=rejected)
        .update(
            status=rejected,
            rejection_reason=reason.strip(),
            moderated_by=by,
            moderated_at=timezone.now(),
            published_at=None,
        )
    )
    if changed:
        item.refresh_from_db()
    return bool(changed)
