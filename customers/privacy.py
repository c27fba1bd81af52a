"""Data rights: consent with its proof, exports of everything held, erasure, the staff trail."""

from __future__ import annotations

import io
import json
import logging
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.core import signing
from django.core.files.base import ContentFile
from django.db import models, transaction
from django.db.models.fields.files import FieldFile
from django.urls import reverse
from django.utils import timezone, translation

from core.db import enqueue_after_commit
from core.emails import email_send
from core.models import OutboxEmail
from customers.languages import language_for_recipient
from customers.models import (
    Connection,
    ConsentRecord,
    Conversion,
    Customer,
    DataExport,
    StaffAccess,
    User,
)
from customers.signals import customer_erased, data_export_ready, personal_data_collect

logger = logging.getLogger(__name__)
UNSUBSCRIBE_SALT = "customers.unsubscribe"
CONSENT_FIELDS = {
    ConsentRecord.Topic.MARKETING: "marketing_consent",
    ConsentRecord.Topic.NOTIFICATIONS: "notification_emails",
    ConsentRecord.Topic.COMMUNITY: "community_emails",
}


# Models that refer to a customer or user but hold nothing *about* the customer.
EXPORT_EXEMPT = {
    "customers.ContactPerson": "a staff member's own work profile, not a customer's data",
    "customers.CustomerImport": (
        "a staff member's upload, not a customer's record; its file, preview and rejected "
        "rows are deleted CUSTOMER_IMPORT_KEEP_DAYS after it ends (`import_files_forget`)"
    ),
    "partners.Partner": "names the staff member who rotated its webhook secret, a staff record",
}


@dataclass
class DataSection:
    """One app's part of a data export."""

    name: str
    models: tuple[type[models.Model], ...]
    records: dict | list
    files: list[FieldFile] = field(default_factory=list)


# Consent


def consent_set(*, customer: Customer, topic: str, granted: bool, source: str) -> bool:
    """Grant or withdraw consent for a topic, keeping a record; returns whether it changed."""
    field_name = CONSENT_FIELDS[topic]
    with transaction.atomic():
        changed = (
            Customer.objects.filter(pk=customer.pk)
            .exclude(**{field_name: granted})
            .update(**{field_name: granted})
        )
        if changed:
            if topic == ConsentRecord.Topic.MARKETING:
                Customer.objects.filter(pk=customer.pk).update(marketing_consent_at=timezone.now())
            ConsentRecord.objects.create(
                customer=customer, topic=topic, granted=granted, source=source
            )
    setattr(customer, field_name, granted)
    return bool(changed)


def unsubscribe_url(*, customer: Customer, topic: str) -> str:
    """A link that withdraws one topic's consent in one click; it does not expire."""
    token = signing.dumps({"c": str(customer.public_id), "t": topic}, salt=UNSUBSCRIBE_SALT)
    return settings.SITE_URL + reverse("customers:unsubscribe", args=[token])


def unsubscribe_token_read(token: str) -> tuple[Customer, str] | None:
    try:
        payload = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        customer = Customer.objects.get(public_id=payload["c"], erased_at__isnull=True)
    except (signing.BadSignature, Customer.DoesNotExist, KeyError, ValueError):
        return None
    if payload["t"] not in CONSENT_FIELDS:
        return None
    return customer, payload["t"]


def customer_email_send(
    *, customer: Customer, template: str, context: dict, topic: str | None = None
) -> bool:
    """Email a customer; with a `topic` only if they agreed to it, with one-click unsubscribe.

    Emails without a topic are transactional (verification, a voucher they asked for).
    Returns whether the email was sent.
    """
    if customer.erased_at:
        return False
    headers = {}
    if topic is not None:
        if not getattr(customer, CONSENT_FIELDS[topic]):
            return False
        url = unsubscribe_url(customer=customer, topic=topic)
        # RFC 8058: mail clients POST "List-Unsubscribe=One-Click" to the URL.
        headers = {
            "List-Unsubscribe": f"<{url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
        context = {**context, "unsubscribe_url": url}
    email_send(
        to=customer.user.email,
        template=template,
        context={"customer": customer, "contact": customer.contact_person, **context},
        language=language_for_recipient(customer),
        headers=headers,
    )
    return True


# Staff access trail


def staff_access_record(*, staff: User, customer: Customer, action: str, path: str = "") -> None:
    StaffAccess.objects.create(staff=staff, customer=customer, action=action, path=path[:300])


# Export


def data_export_request(
    *, customer: Customer, source: str, requested_by: User | None = None
) -> DataExport:
    """Queue an archive of everything held about the customer; one at a time per customer."""

    with transaction.atomic():
        Customer.objects.select_for_update().get(pk=customer.pk)
        export = customer.data_exports.filter(
            status__in=[DataExport.Status.QUEUED, DataExport.Status.BUILDING]
        ).first() or DataExport.objects.create(
            customer=customer, source=source, requested_by=requested_by
        )
        if requested_by is not None and requested_by.is_staff:
            staff_access_record(
                staff=requested_by, customer=customer, action=StaffAccess.Action.EXPORT
            )
        # Asking again re-sends the task of an export that is still waiting (the broker may
        # have been down: robust, the request itself succeeds); building twice is harmless.
        enqueue_after_commit("customers.tasks.data_export_build_task", export.pk)
    return export


def _json_default(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, FieldFile):
        return value.name or None
    raise TypeError(f"{type(value).__name__} is not exportable")


def personal_data_sections(*, customer: Customer) -> list[DataSection]:
    """Every app's section, customers' own first."""
    sections = [customers_section(customer=customer)]
    for _receiver, section in personal_data_collect.send(sender=Customer, customer=customer):
        sections.append(section)
    return sections


def data_export_build(*, export_id: int) -> bool:
    """Build the archive (data.json plus the photos) and email a link; safe to run again."""
    claimed = DataExport.objects.filter(
        pk=export_id, status__in=[DataExport.Status.QUEUED, DataExport.Status.BUILDING]
    ).update(status=DataExport.Status.BUILDING, progress=5)
    if not claimed:
        return False
    export = DataExport.objects.select_related("customer__user").get(pk=export_id)
    # The sections' sentences (notices, points memos) read in the customer's language.
    with translation.override(language_for_recipient(export.customer)):
        sections = personal_data_sections(customer=export.customer)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        document = {"generated_at": timezone.now(), "customer": str(export.customer.public_id)}
        for number, section in enumerate(sections, start=1):
            document[section.name] = section.records
            for photo in section.files:
                if photo and photo.storage.exists(photo.name):
                    with photo.open("rb") as handle:
                        archive.writestr(f"files/{photo.name}", handle.read())
            progress = 5 + int(85 * number / len(sections))
            DataExport.objects.filter(pk=export_id).update(progress=progress)
        archive.writestr("data.json", json.dumps(document, indent=2, default=_json_default))
    export.archive.save(f"{export.public_id}.zip", ContentFile(buffer.getvalue()), save=False)
    with transaction.atomic():
        DataExport.objects.filter(pk=export_id).update(
            archive=export.archive.name,
            status=DataExport.Status.READY,
            progress=100,
            finished_at=timezone.now(),
        )
        export.status = DataExport.Status.READY
        data_export_ready.send(sender=DataExport, export=export)
    customer_email_send(
        customer=export.customer,
        template="data_export_ready",
        context={"url": settings.SITE_URL + reverse("customers:data")},
    )
    return True


def customers_section(*, customer: Customer) -> DataSection:
    user = customer.user
    connections = Connection.objects.filter(
        models.Q(requester=customer) | models.Q(addressee=customer)
    ).select_related("requester__user", "addressee__user")
    return DataSection(
        name="profile",
        models=(
            User,
            Customer,
            EmailAddress,
            Connection,
            Conversion,
            ConsentRecord,
            DataExport,
            StaffAccess,
        ),
        records={
            "account": {
                "email": user.email,
                "first_name": user.first_name,
                "last_name": user.last_name,
                "date_joined": user.date_joined,
                "last_login": user.last_login,
                "addresses": list(
                    EmailAddress.objects.filter(user=user).values("email", "verified", "primary")
                ),
            },
            "profile": {
                "display_name": customer.display_name,
                "referral_code": customer.referral_code,
                "phone": customer.phone,
                "birthday": customer.birthday,
                "interests": customer.interests,
                "preferred_channel": customer.preferred_channel,
                "marketing_consent": customer.marketing_consent,
                "notification_emails": customer.notification_emails,
                "community_emails": customer.community_emails,
                "avatar": customer.avatar,
                "contact_person": customer.contact_person.name if customer.contact_person else None,
                "created_at": customer.created_at,
            },
            "friends": [
                {
                    "name": connection.other(customer).name,
                    "relation": connection.relation,
                    "status": connection.status,
                    "asked_by_me": connection.requester_id == customer.pk,
                    "created_at": connection.created_at,
                }
                for connection in connections
            ],
            "purchases": list(
                customer.conversions.values(
                    "order_id", "amount", "currency", "refunded_amount", "status", "occurred_at"
                )
            ),
            "consents": list(customer.consents.values("topic", "granted", "source", "recorded_at")),
            "data_exports": list(customer.data_exports.values("source", "status", "created_at")),
            "staff_access": list(
                StaffAccess.objects.filter(customer=customer).values("action", "at")
            ),
        },
        files=[customer.avatar],
    )


# Erasure


def customer_erase(*, customer: Customer, source: str, actor: User | None = None) -> bool:
    """Remove or anonymise the customer's personal data everywhere; keep the books balanced.

    The ledger, vouchers and purchases stay (without personal data) so that totals and
    audits hold; friends see "a former member"; the referral code stops working.
    Returns False when the customer was erased already.
    """
    with transaction.atomic():
        customer = Customer.objects.select_for_update().select_related("user").get(pk=customer.pk)
        if customer.erased_at:
            return False
        user = customer.user
        old_email = user.email
        names = [n for n in (user.first_name, user.last_name, customer.display_name) if n]
        for photo in (customer.avatar, customer.avatar_thumbnail):
            if photo:
                photo.delete(save=False)
        user.email = f"erased-{customer.public_id}@erased.invalid"
        user.first_name = user.last_name = ""
        user.is_active = user.is_staff = user.is_superuser = False
        user.set_unusable_password()
        user.save()
        EmailAddress.objects.filter(user=user).delete()
        # Emails to them, sent or waiting: nothing more goes to an erased person.
        OutboxEmail.objects.filter(to__iexact=old_email).delete()
        customer.display_name = customer.phone = customer.interests = ""
        customer.birthday = None
        customer.avatar = customer.avatar_thumbnail = ""
        customer.marketing_consent = customer.notification_emails = False
        customer.community_emails = False
        customer.erased_at = timezone.now()
        customer.save()
        for export in customer.data_exports.all():
            export.archive.delete(save=False)
        customer.data_exports.all().delete()
        # The admin's history names objects by their str(), which held the email.
        for text in [old_email, *names]:
            LogEntry.objects.filter(object_repr__icontains=text).update(object_repr="[erased]")
            LogEntry.objects.filter(change_message__icontains=text).update(change_message="")
            # Sent emails that named them to others (a gift, an alert). A waiting one stays:
            # a short name may match an unrelated email, which must not be lost.
            OutboxEmail.objects.exclude(status=OutboxEmail.Status.PENDING).filter(
                models.Q(subject__icontains=text)
                | models.Q(body__icontains=text)
                | models.Q(html__icontains=text)
            ).delete()
        if actor is not None and actor.is_staff:
            staff_access_record(staff=actor, customer=customer, action=StaffAccess.Action.ERASE)
        customer_erased.send(sender=Customer, customer=customer, email=old_email)
    logger.info("Customer %s erased (requested through %s)", customer.public_id, source)
    return True
