"""Customer files as people make them, for the import's tests and the bench."""

from __future__ import annotations

from django.core.files.base import ContentFile

from customers.models import CustomerImport
from partners.imports import (
    customer_import_analyse,
    customer_import_confirm,
    customer_import_create,
    customer_import_run,
)

HEADER = (
    "E-mail;First name;Surname;Phone;Language;Partner;Partner ID;Opening balance;"
    "Contact person;Newsletter;Consent date;Consent source"
)


def semicolon_export(lines: list[str], *, bom: bool = True, crlf: bool = True) -> bytes:
    """A spreadsheet's "CSV (semicolon)" export: a byte-order mark and Windows line ends."""
    text = ("\r\n" if crlf else "\n").join([HEADER, *lines]) + ("\r\n" if crlf else "\n")
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode()


def import_file(
    content: bytes, *, source: str = "oldshop", name: str = "customers.csv", welcome=False
) -> CustomerImport:
    """Upload, check and confirm, as staff do; the run is the caller's."""
    customer_import = customer_import_create(
        upload=ContentFile(content, name=name),
        source=source,
        send_welcome=welcome,
        created_by=None,
        queue=False,
    )
    return customer_import_analyse(customer_import_id=customer_import.pk)


def import_and_run(content: bytes, **options) -> CustomerImport:
    customer_import = import_file(content, **options)
    assert customer_import.status == CustomerImport.Status.READY, customer_import.error
    customer_import_confirm(customer_import=customer_import, queue=False)
    customer_import_run(customer_import_id=customer_import.pk)
    customer_import.refresh_from_db()
    return customer_import
