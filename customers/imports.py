"""Reading a file of existing customers and writing their profiles, a chunk at a time.

This module is the customers app's part of an import: the upload's record
(`CustomerImport`), reading spreadsheet exports as people make them, checking each
row's own fields, and creating users and profiles in bulk. It imports no app above
customers. Linking a partner's id and posting an opening balance belong to the partners
and loyalty apps, so the run that ties the three together lives at the top, in
`partners.imports`, which calls down into this module, the ledger and the links (the
same way a partner's purchase is followed from the API view to the ledger by reading
calls, rather than through signals or lookups handed in).

A file is only ever streamed: read from private storage a record at a time, never whole.
"""

from __future__ import annotations

import csv
import hashlib
import heapq
import io
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import Count, Q
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core import sql
from core.db import enqueue_after_commit
from core.sql import copy_rows
from customers.models import (
    ConsentRecord,
    ContactPerson,
    Customer,
    CustomerImport,
    CustomerImportIssue,
    CustomerImportKey,
    User,
)
from customers.services import referral_code_generate

CHUNK_ROWS = 1000
PREVIEW_ROWS = 10
MAX_BALANCE = 10**12

# What people call each column, compared after lower-casing and dropping everything but
# letters and digits ("E-mail address" is "emailaddress").
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "email": ("email", "emailaddress", "mail", "customeremail", "emailadresse"),
    "first_name": ("firstname", "givenname", "forename", "first", "vorname"),
    "last_name": ("lastname", "surname", "familyname", "last", "nachname"),
    "phone": ("phone", "phonenumber", "telephone", "tel", "mobile", "mobilephone"),
    "language": ("language", "preferredlanguage", "lang", "locale"),
    "partner": ("partner", "partnername", "partnersite", "shop"),
    "external_id": (
        "externalid",
        "partnerid",
        "partnercustomerid",
        "customerid",
        "partnerexternalid",
    ),
    "balance": (
        "openingbalance",
        "balance",
        "points",
        "pointsbalance",
        "openingpoints",
        "pointbalance",
    ),
    "contact": (
        "contactperson",
        "contactpersonemail",
        "contact",
        "contactemail",
        "accountmanager",
    ),
    "marketing_consent": (
        "marketingconsent",
        "consent",
        "marketing",
        "newsletter",
        "optin",
        "marketingoptin",
    ),
    "consent_date": (
        "consentdate",
        "marketingconsentdate",
        "consentgivenat",
        "consentat",
        "consentgiven",
        "optindate",
    ),
    "consent_source": (
        "consentsource",
        "marketingconsentsource",
        "consentgiventhrough",
        "consentvia",
        "consentchannel",
        "optinsource",
    ),
}
_ALIAS_TO_FIELD = {alias: name for name, aliases in HEADER_ALIASES.items() for alias in aliases}
_YES = {"yes", "y", "true", "1", "x", "ja", "oui", "si", "sí"}
_NO = {"no", "n", "false", "0", "", "nein", "non"}
_DATE_FORMATS = ("%d.%m.%Y", "%d/%m/%Y", "%d.%m.%Y %H:%M", "%d/%m/%Y %H:%M")
# Signatures of files that are not text: a workbook (zip), an old Excel file, a PDF.
_BINARY_STARTS = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"%PDF")


class ImportFileError(Exception):
    """The file cannot be read as customers; the message is for the staff member."""


def header_key(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.strip().lower())


@dataclass(frozen=True)
class ImportHeader:
    """The file's own column names and where each known field is."""

    columns: list[str]
    delimiter: str
    positions: dict[str, int]


def _header_read(line: str) -> ImportHeader:
    # Spreadsheets export with commas or, where the comma is the decimal mark, semicolons:
    # the header line has the most of whichever separates the columns.
    delimiter = max([",", ";", "\t"], key=line.count)
    columns = next(csv.reader([line], delimiter=delimiter), [])
    positions: dict[str, int] = {}
    for index, column in enumerate(columns):
        name = _ALIAS_TO_FIELD.get(header_key(column))
        if name is not None and name not in positions:
            positions[name] = index
    if "email" not in positions:
        found = ", ".join(column.strip() for column in columns if column.strip())[:200]
        raise ImportFileError(
            _(
                "The file has no email column. The first line must name the columns, one "
                "of them “email”. Columns found: %(columns)s"
            )
            % {"columns": found or _("none")}
        )
    return ImportHeader(
        columns=[c.strip() for c in columns], delimiter=delimiter, positions=positions
    )


@contextmanager
def import_file_open(stored: File) -> Iterator[tuple[ImportHeader, Iterator[list[str]]]]:
    """Open an uploaded file for reading: its header, and its records one at a time.

    UTF-8 with or without a byte-order mark; quoted fields may hold line breaks; Windows
    line ends are read as any others. ImportFileError for anything else.
    """
    stored.open("rb")
    try:
        start = stored.read(4096)
        stored.seek(0)
        if start.startswith(_BINARY_STARTS) or b"\x00" in start:
            raise ImportFileError(
                _("This is not a CSV file. Save the sheet as “CSV UTF-8” and upload that.")
            )
        text = io.TextIOWrapper(stored, encoding="utf-8-sig", newline="")
        try:
            header = _header_read(text.readline())
            records = csv.reader(text, delimiter=header.delimiter, strict=False)
            yield header, _records(records)
        except UnicodeDecodeError:
            raise ImportFileError(
                _("The file is not UTF-8 text. Save the sheet as “CSV UTF-8” and upload that.")
            ) from None
        except csv.Error as error:
            raise ImportFileError(
                _("The file is not valid CSV: %(error)s") % {"error": error}
            ) from None
        finally:
            text.detach()
    finally:
        stored.close()


def _records(reader) -> Iterator[list[str]]:
    for values in reader:
        if any(value.strip() for value in values):
            yield values


@dataclass
class ImportRow:
    """One record, as read and as checked; `reason` says why it is refused, if it is."""

    number: int
    values: list[str]
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    language: str = ""
    partner: str = ""
    external_id: str = ""
    balance: int = 0
    contact_person_id: int | None = None
    marketing_consent: bool = False
    consent_date: datetime | None = None
    consent_source: str = ""
    reason: str = ""
    # The reason from reading alone, kept for a chunk that is checked again after a race.
    read_reason: str = ""
    # Filled by the lookups: the customer the row matched or created.
    user_id: int | None = None
    customer_id: int | None = None
    created: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.email.upper()

    def forget_lookups(self) -> None:
        """Back to the row as read, before the database was consulted."""
        self.reason = self.read_reason
        self.user_id = self.customer_id = None
        self.created = False
        self.extra = {}

    def reject(self, reason: str) -> None:
        if not self.reason:
            self.reason = reason


def _value(values: list[str], header: ImportHeader, name: str) -> str:
    position = header.positions.get(name)
    if position is None or position >= len(values):
        return ""
    return values[position].strip()


def _consent_date(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        for pattern in _DATE_FORMATS:
            try:
                parsed = datetime.strptime(text, pattern)
                break
            except ValueError:
                continue
        else:
            raise ValueError(text) from None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def row_read(number: int, values: list[str], header: ImportHeader, contacts: dict) -> ImportRow:
    """Check one record's own fields (not yet against other rows or the database)."""
    row = ImportRow(number=number, values=values)
    get = lambda name: _value(values, header, name)  # noqa: E731
    if len(values) > len(header.columns):
        row.reject(_("The row has more fields than the header has columns."))
    email = get("email")
    try:
        validate_email(email)
        row.email = User.objects.normalize_email(email)
    except ValidationError:
        row.reject(_("Not a valid email address.") if email else _("The email is missing."))
    row.first_name, row.last_name = get("first_name"), get("last_name")
    if len(row.first_name) > 150 or len(row.last_name) > 150:
        row.reject(_("A name is longer than 150 characters."))
    row.phone = get("phone")
    if len(row.phone) > 40:
        row.reject(_("The phone number is longer than 40 characters."))
    row.language = get("language").replace("_", "-").lower()
    if row.language not in Customer.Language.values:
        # A region the portal has no formats for speaks its language (en-gb: en).
        row.language = row.language.split("-")[0]
    if row.language and row.language not in Customer.Language.values:
        row.reject(
            _("The language is not one the portal speaks: %(codes)s.")
            % {"codes": ", ".join(Customer.Language.values)}
        )
    balance = get("balance").replace(" ", "")
    if balance:
        if re.fullmatch(r"-\d+", balance):
            row.reject(_("The opening balance is negative."))
        elif not re.fullmatch(r"\d+", balance) or int(balance) > MAX_BALANCE:
            row.reject(_("The opening balance is not a whole number of points."))
        else:
            row.balance = int(balance)
    contact = get("contact")
    if contact:
        row.contact_person_id = contacts.get(contact.lower())
        if row.contact_person_id is None:
            row.reject(_("No contact person has the email %(email)s.") % {"email": contact})
    consent = get("marketing_consent").lower()
    if consent in _YES:
        row.marketing_consent = True
        row.consent_source = get("consent_source")
        if len(row.consent_source) > 200:
            row.reject(_("Where consent was given is longer than 200 characters."))
        if date := get("consent_date"):
            try:
                row.consent_date = _consent_date(date)
            except ValueError:
                row.reject(_("The consent date is not a date (use YYYY-MM-DD)."))
            else:
                if row.consent_date > timezone.now():
                    row.reject(_("The consent date is in the future."))
    elif consent not in _NO:
        row.reject(_("Marketing consent is not yes or no."))
    row.partner, row.external_id = get("partner"), get("external_id")
    if row.partner and not row.external_id:
        row.reject(_("A partner is named without the customer's id there."))
    elif row.external_id and not row.partner:
        row.reject(_("A partner's customer id is given without the partner."))
    elif len(row.external_id) > 255:
        row.reject(_("The partner's customer id is longer than 255 characters."))
    return row


def contact_persons_by_email() -> dict[str, int]:
    """Contact persons by their own address or their login's, lower-cased."""
    found: dict[str, int] = {}
    for pk, email, user_email in ContactPerson.objects.values_list("pk", "email", "user__email"):
        for address in (email, user_email):
            if address:
                found.setdefault(address.lower(), pk)
    return found


def rows_read(
    records: Iterator[list[str]], header: ImportHeader, contacts: dict
) -> Iterator[ImportRow]:
    """Every record as an ImportRow, numbered from 1, checked on its own fields."""
    for number, values in enumerate(records, start=1):
        row = row_read(number, values, header, contacts)
        row.read_reason = row.reason
        yield row


def chunked(rows: Iterator[ImportRow], size: int = CHUNK_ROWS) -> Iterator[list[ImportRow]]:
    chunk: list[ImportRow] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _fingerprint(kind: str, value: str) -> int:
    # 8 bytes of a hash (signed, as the column is): a collision is less likely than a typo,
    # and the table holds no address in clear.
    digest = hashlib.blake2b(f"{kind}\x1f{value}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _row_keys(row: ImportRow) -> list[tuple[str, int]]:
    keys = []
    if row.email:
        keys.append(("email", _fingerprint("email", row.key)))
    if row.partner and row.external_id:
        partner_id = f"{row.partner.lower()}\x1f{row.external_id}"
        keys.append(("partner", _fingerprint("partner", partner_id)))
    return keys


def duplicates_mark(*, customer_import: CustomerImport, rows: list[ImportRow]) -> None:
    """Refuse rows whose address, or partner and partner's id, is on an earlier row of the
    file, wherever in the file that row is.

    The first row of each key is written to the import's table of keys (a conflict leaves
    the row written before: a resumed or a second check of the same file writes nothing
    new), and the keys of this chunk are looked up there, so memory holds one chunk.
    """
    wanted = {fingerprint for row in rows for _kind, fingerprint in _row_keys(row)}
    if not wanted:
        return
    first_row = dict(
        CustomerImportKey.objects.filter(
            customer_import=customer_import, fingerprint__any_of=list(wanted)
        ).values_list("fingerprint", "row_number")
    )
    new: dict[int, int] = {}
    for row in rows:
        for kind, fingerprint in _row_keys(row):
            first = first_row.get(fingerprint, new.get(fingerprint, row.number))
            if first < row.number:
                if kind == "email":
                    row.reason = _("The same email is on an earlier row of the file.")
                else:
                    row.reject(
                        _("The partner's customer id %(id)s is on an earlier row of the file.")
                        % {"id": row.external_id}
                    )
            elif fingerprint not in first_row:
                new.setdefault(fingerprint, row.number)
        row.read_reason = row.reason
    _keys_write(customer_import=customer_import, first_rows=new)


def _keys_write(*, customer_import: CustomerImport, first_rows: dict[int, int]) -> None:
    """Record each key's first row; a key recorded before keeps its row."""
    if not first_rows:
        return
    if connection.vendor != "postgresql":
        CustomerImportKey.objects.bulk_create(
            [
                CustomerImportKey(
                    customer_import=customer_import, fingerprint=fingerprint, row_number=number
                )
                for fingerprint, number in first_rows.items()
            ],
            ignore_conflicts=True,
        )
        return
    # Two arrays in one statement: a multi-row INSERT would bind three parameters a key and
    # more than double the time the preview takes.
    names = ("customer_import", "fingerprint", "row_number")
    columns = ", ".join(sql.column(CustomerImportKey, name) for name in names)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {sql.table(CustomerImportKey)} ({columns}) "
            "SELECT %s, unnest(%s::bigint[]), unnest(%s::integer[]) ON CONFLICT DO NOTHING",
            [customer_import.pk, list(first_rows), list(first_rows.values())],
        )


def chunks_read(
    records: Iterator[list[str]],
    header: ImportHeader,
    contacts: dict,
    *,
    customer_import: CustomerImport,
    after: int = 0,
) -> Iterator[list[ImportRow]]:
    """The file's rows after row `after`, a chunk at a time, each checked on its own fields
    and against every row before it in the file."""
    for chunk in chunked(rows_read(records, header, contacts), settings.CUSTOMER_IMPORT_CHUNK_ROWS):
        chunk = [row for row in chunk if row.number > after]
        if chunk:
            duplicates_mark(customer_import=customer_import, rows=chunk)
            yield chunk


def rows_match(rows: list[ImportRow]) -> None:
    """Find the users and customers the good rows' addresses already belong to."""
    keys = [row.key for row in rows if not row.reason]
    if not keys:
        return
    known = {
        key: (user_id, customer_id)
        for key, user_id, customer_id in User.objects.annotate(key=Upper("email"))
        .filter(key__any_of=keys)
        .values_list("key", "pk", "customer__pk")
    }
    for row in rows:
        if not row.reason and row.key in known:
            row.user_id, row.customer_id = known[row.key]


class ContactPersonChooser:
    """New customers without a contact person in the file go to whoever has fewest, as at
    signup; the loads are read once per run and kept up to date here."""

    def __init__(self):
        self.loads = [
            (load, pk)
            for pk, load in ContactPerson.objects.filter(is_active=True)
            .annotate(load=Count("customers"))
            .values_list("pk", "load")
        ]
        heapq.heapify(self.loads)

    def choose(self) -> int | None:
        if not self.loads:
            return None
        load, pk = heapq.heappop(self.loads)
        heapq.heappush(self.loads, (load + 1, pk))
        return pk


def _unusable_password() -> str:
    # What `set_unusable_password` stores (the prefix, then anything random), from one
    # draw of the system's random source rather than forty.
    return UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30)


def customers_write(
    *, rows: list[ImportRow], customer_import: CustomerImport, chooser: ContactPersonChooser
) -> None:
    """Create the users and profiles the good rows need; inside the caller's transaction.

    Set-based: one COPY (or INSERT) per table and chunk. The unique constraints still
    decide: an address that signed up since `rows_match`, or a referral code drawn twice,
    fails the chunk, and the caller runs it again from a fresh read.
    """
    good = [row for row in rows if not row.reason]
    now = timezone.now()
    new_users = [row for row in good if row.user_id is None]
    user_ids = copy_rows(
        User,
        [
            {
                "email": row.email,
                "first_name": row.first_name,
                "last_name": row.last_name,
                "password": _unusable_password(),
                "date_joined": now,
            }
            for row in new_users
        ],
    )
    for row, user_id in zip(new_users, user_ids, strict=True):
        row.user_id, row.created = user_id, True
    copy_rows(
        EmailAddress,
        [
            {"user_id": row.user_id, "email": row.email, "primary": True, "verified": False}
            for row in new_users
        ],
        keys=False,
    )
    profiles = [row for row in good if row.customer_id is None]
    customer_ids = copy_rows(
        Customer,
        [
            {
                "user_id": row.user_id,
                "referral_code": referral_code_generate(),
                "phone": row.phone,
                "language": row.language,
                "contact_person_id": row.contact_person_id or chooser.choose(),
                "marketing_consent": row.marketing_consent,
                "marketing_consent_at": (row.consent_date or now)
                if row.marketing_consent
                else None,
                "imported_by_id": customer_import.pk,
            }
            for row in profiles
        ],
    )
    for row, customer_id in zip(profiles, customer_ids, strict=True):
        row.customer_id = customer_id
    copy_rows(
        ConsentRecord,
        [
            {
                "customer_id": row.customer_id,
                "topic": ConsentRecord.Topic.MARKETING.value,
                "granted": True,
                "source": ConsentRecord.Source.IMPORT.value,
                "given_at": row.consent_date,
                "given_through": row.consent_source,
            }
            for row in good
            if row.created and row.marketing_consent
        ],
        keys=False,
    )


def issues_write(*, customer_import: CustomerImport, rows: list[ImportRow], kind: str) -> None:
    CustomerImportIssue.objects.bulk_create(
        [
            CustomerImportIssue(
                customer_import=customer_import,
                row_number=row.number,
                kind=kind,
                reason=row.reason[:500],
                values=row.values,
            )
            for row in rows
        ]
    )


def import_report_rows(customer_import: CustomerImport) -> Iterator[list[str]]:
    """The report of refused rows, as CSV records: the file's own columns plus the reason,
    so the staff member can fix the rows and upload the report again."""
    columns = customer_import.preview.get("columns", [])
    yield [*columns, _("reason")]
    issues = customer_import.issues.order_by("row_number").values_list("values", "reason")
    for values, reason in issues.iterator(chunk_size=2000):
        yield [*values, *[""] * (len(columns) - len(values)), reason]


class _Echo:
    def write(self, value: str) -> str:
        return value


def import_report_lines(customer_import: CustomerImport) -> Iterator[str]:
    """The report as text lines to stream (UTF-8 with a byte-order mark, which spreadsheet
    programs need to read it as UTF-8)."""
    writer = csv.writer(_Echo(), delimiter=customer_import.delimiter or ",")
    yield "\ufeff"
    for record in import_report_rows(customer_import):
        yield writer.writerow(record)


# The record's progress


@dataclass(frozen=True)
class ImportProgress:
    status: str
    status_display: str
    rows_done: int
    total_rows: int
    percent: int
    rows_per_second: float | None
    seconds_left: int | None
    created: int
    matched: int
    rejected: int
    balances_posted: int
    balances_differing: int
    finished: bool


def import_progress(customer_import: CustomerImport) -> ImportProgress:
    """How far an import is, its rate and time left, from its row alone."""
    ci = customer_import
    rate = seconds_left = None
    if ci.status == CustomerImport.Status.RUNNING and ci.run_started_at:
        elapsed = (timezone.now() - ci.run_started_at).total_seconds()
        done_in_run = ci.rows_done - ci.run_started_rows
        if elapsed > 0 and done_in_run > 0:
            rate = done_in_run / elapsed
            seconds_left = int((ci.total_rows - ci.rows_done) / rate)
    total = max(ci.total_rows, 1)
    finished = ci.status in (
        CustomerImport.Status.DONE,
        CustomerImport.Status.FAILED,
        CustomerImport.Status.CANCELLED,
    )
    return ImportProgress(
        status=ci.status,
        status_display=str(ci.get_status_display()),
        rows_done=ci.rows_done,
        total_rows=ci.total_rows,
        percent=100 if ci.status == CustomerImport.Status.DONE else int(100 * ci.rows_done / total),
        rows_per_second=round(rate, 1) if rate else None,
        seconds_left=seconds_left,
        created=ci.created_count,
        matched=ci.matched_count,
        rejected=ci.rejected_count,
        balances_posted=ci.balances_posted,
        balances_differing=ci.balances_differing,
        finished=finished,
    )


def import_files_forget() -> int:
    """Delete the files, previews and rejected rows of imports that ended long enough ago:
    they hold the personal data of every row, which the customers' own records now hold."""
    ended = timezone.now() - timedelta(days=settings.CUSTOMER_IMPORT_KEEP_DAYS)
    old = CustomerImport.objects.filter(
        status__in=[
            CustomerImport.Status.DONE,
            CustomerImport.Status.FAILED,
            CustomerImport.Status.CANCELLED,
        ],
        updated_at__lt=ended,
    ).exclude(file="")
    forgotten = 0
    for customer_import in old.iterator():
        customer_import.file.delete(save=False)
        customer_import.issues.all().delete()
        customer_import.keys.all().delete()
        CustomerImport.objects.filter(pk=customer_import.pk).update(file="", preview={})
        forgotten += 1
    return forgotten


# Welcome emails


def import_welcome_recipients(customer_import_id: int):
    """New customers of an import who agreed to hear from the business and were not
    welcomed yet: nobody else gets an email because they were imported."""
    return Customer.objects.filter(
        imported_by_id=customer_import_id,
        welcomed_at__isnull=True,
        marketing_consent=True,
        erased_at__isnull=True,
    ).filter(Q(user__is_active=True))


def password_set_url(user: User) -> str:
    """allauth's password-reset link: for an imported customer, the way to a first password."""
    key = default_token_generator.make_token(user)
    path = reverse(
        "account_reset_password_from_key", kwargs={"uidb36": user_pk_to_url_str(user), "key": key}
    )
    return settings.SITE_URL + path


# One batch of an import's welcomes per this many seconds: the rate is the import's,
# whatever number of tasks ask for a batch.
WELCOME_BATCH_SECONDS = 60


def import_welcomes_send(*, customer_import_id: int, limit: int) -> int:
    """Welcome up to `limit` of an import's new customers, unless a batch of this import
    went out less than `WELCOME_BATCH_SECONDS` ago; returns how many still wait.

    The batch's turn is claimed on the import's row (compare-and-swap), so a retried or
    duplicated task cannot send a second batch early; each customer is claimed
    (`welcomed_at`) in the transaction that stores their email in the outbox, so two runs
    never welcome one person twice.
    """
    from customers.privacy import customer_email_send

    now = timezone.now()
    turn = CustomerImport.objects.filter(pk=customer_import_id).filter(
        Q(welcomes_batch_at__isnull=True)
        | Q(welcomes_batch_at__lte=now - timedelta(seconds=WELCOME_BATCH_SECONDS))
    )
    recipients = import_welcome_recipients(customer_import_id)
    if not turn.update(welcomes_batch_at=now):
        return recipients.count()
    batch = recipients.select_related("user", "contact_person").order_by("pk")[:limit]
    for customer in batch:
        with transaction.atomic():
            if not Customer.objects.filter(pk=customer.pk, welcomed_at__isnull=True).update(
                welcomed_at=timezone.now()
            ):
                continue
            customer_email_send(
                customer=customer,
                template="import_welcome",
                context={"password_url": password_set_url(customer.user)},
                topic=ConsentRecord.Topic.MARKETING,
            )
    return recipients.count()


def import_welcomes_queue(*, customer_import: CustomerImport) -> None:
    """Start the welcomes of a finished import, if the staff member asked for them."""
    if customer_import.send_welcome:
        enqueue_after_commit("customers.tasks.email_import_welcomes", customer_import.pk)
