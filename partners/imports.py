"""The import of existing customers, end to end: check the file, then run it in chunks.

Why here, at the top of the layers: a row touches three apps. Its profile is the
customers app's (`customers.imports` reads the file and writes users and profiles), its
opening balance is the ledger's (`loyalty.ledger.opening_balances_post`), and its
partner's id is a link of this app. Only the top app may call all three, so the run that
ties them together lives here, and it is read as plain calls from the admin view to the
ledger. A lower app handed a partner lookup or a posting function would hide the same
dependency behind a parameter.

Safe to run again and to kill: each chunk of rows commits together with the import's
`rows_done`, under a lock on the import's row, so a resumed run starts after the last
chunk that committed and two runs of one import never write the same chunk. An opening
balance posts once per source and address (its ledger idempotency key); a later file
with another amount is reported, not posted. Only the business's own sites are linked:
a merchant sees a member only after the person's yes (`partners.links`), which an import
cannot give.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.core.files.base import File
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core.db import enqueue_after_commit, statistics_refresh
from core.sql import copy_rows
from customers.imports import (
    PREVIEW_ROWS,
    ContactPersonChooser,
    ImportFileError,
    ImportRow,
    chunks_read,
    contact_persons_by_email,
    customers_write,
    import_file_open,
    import_welcomes_queue,
    issues_write,
    rows_match,
)
from customers.models import (
    ConsentRecord,
    Customer,
    CustomerImport,
    CustomerImportIssue,
    CustomerImportKey,
    User,
)
from loyalty.ledger import opening_balances_post
from loyalty.memos import Memo
from loyalty.models import Account, Entry, Transaction
from partners.models import Partner, PartnerCustomer

# The tables an import writes to and looks rows up in.
IMPORTED_MODELS = (User, EmailAddress, Customer, ConsentRecord, PartnerCustomer, Account,
                   Transaction, Entry, CustomerImportKey)  # fmt: skip


def balance_key(*, source: str, email: str) -> str:
    """The ledger idempotency key of an opening balance: once per source and customer."""
    return f"import:{source}:{email.lower()}"[:255]


def partners_by_name() -> dict[str, Partner]:
    return {partner.name.lower(): partner for partner in Partner.objects.all()}


def links_check(rows: list[ImportRow], partners: dict[str, Partner]) -> None:
    """Refuse rows whose partner is unknown or a merchant, or whose partner id belongs to
    someone else; mark those already linked as they should be."""
    wanted: dict[int, list[ImportRow]] = {}
    for row in rows:
        if row.reason or not row.partner:
            continue
        partner = partners.get(row.partner.lower())
        if partner is None:
            row.reject(_("No partner is called %(name)s.") % {"name": row.partner})
        elif partner.kind != Partner.Kind.OWN:
            row.reject(
                _(
                    "%(name)s is a merchant: it sees a member only after the person says yes, "
                    "so link them through the partner API."
                )
                % {"name": partner.name}
            )
        else:
            row.extra["partner"] = partner
            wanted.setdefault(partner.pk, []).append(row)
    for partner_id, partner_rows in wanted.items():
        by_external = dict(
            PartnerCustomer.objects.filter(
                partner_id=partner_id,
                external_id__any_of=[row.external_id for row in partner_rows],
            ).values_list("external_id", "customer_id")
        )
        customers = [row.customer_id for row in partner_rows if row.customer_id]
        by_customer = dict(
            PartnerCustomer.objects.filter(
                partner_id=partner_id, customer_id__any_of=customers
            ).values_list("customer_id", "external_id")
        )
        for row in partner_rows:
            holder = by_external.get(row.external_id)
            if holder and holder != row.customer_id:
                row.reject(
                    _("The partner's customer id %(id)s is already linked to another customer.")
                    % {"id": row.external_id}
                )
            elif row.customer_id in by_customer and holder is None:
                row.reject(
                    _("This customer is already linked to the partner under id %(id)s.")
                    % {"id": by_customer[row.customer_id]}
                )
            elif holder:
                row.extra["linked"] = True


def links_write(rows: list[ImportRow]) -> None:
    """Link the good rows to their partner (own sites only: active at once)."""
    copy_rows(
        PartnerCustomer,
        [
            {
                "partner_id": row.extra["partner"].pk,
                "customer_id": row.customer_id,
                "external_id": row.external_id,
                "status": PartnerCustomer.Status.ACTIVE.value,
                "created_customer": row.created,
            }
            for row in rows
            if not row.reason and "partner" in row.extra and not row.extra.get("linked")
        ],
        keys=False,
    )


# The import's lifecycle: upload, confirm or cancel, then the tasks below.


def customer_import_create(
    *,
    upload: File,
    source: str,
    send_welcome: bool,
    created_by: User | None,
    queue: bool = True,
) -> CustomerImport:
    """Keep the upload in private storage (copied in chunks, never read whole) and queue
    its check; the preview comes from there. `queue=False` leaves the check to the caller
    (the management command runs it in its own process)."""
    with transaction.atomic():
        customer_import = CustomerImport(
            file_name=(upload.name or "customers.csv")[-255:],
            source=source,
            send_welcome=send_welcome,
            created_by=created_by,
        )
        customer_import.file.save(upload.name or "customers.csv", upload, save=False)
        customer_import.save()
        if queue:
            enqueue_after_commit("partners.tasks.customer_import_analyse", customer_import.pk)
    return customer_import


def customer_import_confirm(*, customer_import: CustomerImport, queue: bool = True) -> bool:
    """The staff member saw the preview and says go; False if it was not waiting for that."""
    with transaction.atomic():
        confirmed = CustomerImport.objects.filter(
            pk=customer_import.pk, status=CustomerImport.Status.READY
        ).update(status=CustomerImport.Status.QUEUED, updated_at=timezone.now())
        if confirmed and queue:
            enqueue_after_commit("partners.tasks.customer_import_run", customer_import.pk)
    return bool(confirmed)


def customer_import_cancel(*, customer_import: CustomerImport) -> bool:
    return bool(
        CustomerImport.objects.filter(
            pk=customer_import.pk, status=CustomerImport.Status.READY
        ).update(status=CustomerImport.Status.CANCELLED)
    )


@dataclass(frozen=True)
class ImportCheck:
    """What a check of the whole file found, before anything is written."""

    total: int
    new: int
    matched: int
    rejected: int


def _preview_row(row: ImportRow) -> dict:
    outcome = "rejected" if row.reason else ("matched" if row.user_id else "new")
    return {
        "number": row.number,
        "email": row.email or (row.values[0] if row.values else ""),
        "name": " ".join(filter(None, [row.first_name, row.last_name])),
        "phone": row.phone,
        "language": row.language,
        "partner": f"{row.partner} {row.external_id}".strip(),
        "balance": row.balance,
        "marketing_consent": row.marketing_consent,
        "outcome": outcome,
        "reason": row.reason,
    }


def import_check(*, customer_import: CustomerImport) -> ImportCheck:
    """Read the whole file as the run will, writing nothing: counts and the first rows."""
    new = matched = rejected = total = 0
    preview: list[dict] = []
    partners = partners_by_name()
    with import_file_open(customer_import.file) as (header, records):
        chunks = chunks_read(
            records, header, contact_persons_by_email(), customer_import=customer_import
        )
        for checked, chunk in enumerate(chunks):
            if checked & (checked - 1) == 0 and checked:
                # The table of the file's keys grows as the check reads: its statistics are
                # refreshed as it doubles, so each chunk's lookup keeps to its index.
                statistics_refresh(CustomerImportKey)
            rows_match(chunk)
            links_check(chunk, partners)
            for row in chunk:
                total += 1
                if row.reason:
                    rejected += 1
                elif row.user_id:
                    matched += 1
                else:
                    new += 1
                if len(preview) < PREVIEW_ROWS:
                    preview.append(_preview_row(row))
            CustomerImport.objects.filter(pk=customer_import.pk).update(
                rows_done=total, updated_at=timezone.now()
            )
    customer_import.preview = {
        "columns": header.columns,
        "fields": sorted(header.positions, key=header.positions.get),
        "rows": preview,
    }
    customer_import.delimiter = header.delimiter
    return ImportCheck(total=total, new=new, matched=matched, rejected=rejected)


def customer_import_analyse(*, customer_import_id: int) -> CustomerImport:
    """Check an uploaded file and keep the preview; the staff member confirms from there."""
    claimed = CustomerImport.objects.filter(
        pk=customer_import_id, status=CustomerImport.Status.ANALYSING
    ).update(check_attempts=F("check_attempts") + 1, rows_done=0, updated_at=timezone.now())
    customer_import = CustomerImport.objects.get(pk=customer_import_id)
    if not claimed:
        return customer_import
    try:
        check = import_check(customer_import=customer_import)
    except ImportFileError as error:
        CustomerImport.objects.filter(pk=customer_import.pk).update(
            status=CustomerImport.Status.FAILED, error=str(error), finished_at=timezone.now()
        )
    else:
        CustomerImport.objects.filter(
            pk=customer_import.pk, status=CustomerImport.Status.ANALYSING
        ).update(
            status=CustomerImport.Status.READY,
            preview=customer_import.preview,
            delimiter=customer_import.delimiter,
            total_rows=check.total,
            expected_new=check.new,
            expected_matched=check.matched,
            expected_rejected=check.rejected,
            rows_done=0,
            updated_at=timezone.now(),
        )
    customer_import.refresh_from_db()
    return customer_import


def _chunk_commit(
    *, customer_import: CustomerImport, rows: list[ImportRow], after: int, chooser
) -> bool:
    """Write one chunk and move `rows_done` past it, in one transaction; False if this run
    is no longer the one at that position (another run went on, or the import ended)."""
    with transaction.atomic():
        claimed = (
            CustomerImport.objects.select_for_update()
            .filter(pk=customer_import.pk, rows_done=after, status=CustomerImport.Status.RUNNING)
            .exists()
        )
        if not claimed:
            return False
        customers_write(rows=rows, customer_import=customer_import, chooser=chooser)
        links_write(rows)
        good = [row for row in rows if not row.reason]
        keys = {
            row.number: balance_key(source=customer_import.source, email=row.email)
            for row in good
            if row.balance
        }
        posted = opening_balances_post(
            balances=[
                (row.customer_id, row.balance, keys[row.number]) for row in good if row.balance
            ],
            memo=Memo(kind="opening_balance"),
            cause="import",
            cause_ref=str(customer_import.public_id),
            actor=customer_import.created_by,
        )
        differing = []
        for row in good:
            earlier = posted.earlier.get(keys.get(row.number, ""))
            if earlier is not None and earlier != row.balance:
                row.reason = _(
                    "The opening balance is %(now)d here but %(then)d was posted by an earlier "
                    "import from this source; nothing was posted. Adjust the points in the "
                    "ledger if %(now)d is right."
                ) % {"now": row.balance, "then": earlier}
                differing.append(row)
        differ = {row.number for row in differing}
        rejected = [row for row in rows if row.reason and row.number not in differ]
        issues_write(
            customer_import=customer_import, rows=rejected, kind=CustomerImportIssue.Kind.REJECTED
        )
        issues_write(
            customer_import=customer_import,
            rows=differing,
            kind=CustomerImportIssue.Kind.BALANCE_DIFFERS,
        )
        created = sum(row.created for row in good)
        CustomerImport.objects.filter(pk=customer_import.pk).update(
            rows_done=rows[-1].number,
            created_count=F("created_count") + created,
            matched_count=F("matched_count") + len(good) - created,
            rejected_count=F("rejected_count") + len(rejected),
            balances_posted=F("balances_posted") + len(posted.posted),
            balances_differing=F("balances_differing") + len(differing),
            updated_at=timezone.now(),
        )
    return True


# A chunk that lost a race on a unique value is checked and written again this many times.
CHUNK_ATTEMPTS = 3


def _chunk_write(*, customer_import, rows, after, partners, chooser) -> bool:
    """Check a chunk against the database and commit it; a unique constraint that refuses
    it (an address that signed up meanwhile, a partner id linked meanwhile, a referral
    code drawn twice) rolls it back, and it is checked again from a fresh read."""
    for attempt in range(1, CHUNK_ATTEMPTS + 1):
        rows_match(rows)
        links_check(rows, partners)
        try:
            return _chunk_commit(
                customer_import=customer_import, rows=rows, after=after, chooser=chooser
            )
        except IntegrityError:
            if attempt == CHUNK_ATTEMPTS:
                raise
            for row in rows:
                row.forget_lookups()
    return False


def customer_import_run(*, customer_import_id: int, seconds: float | None = None) -> bool:
    """Import the confirmed file from where the last run stopped, for at most `seconds`.

    Returns True when the import is finished (or was already); False when time ran out
    (the next slice is queued) or another run holds the import.
    """
    now = timezone.now()
    claimed = CustomerImport.objects.filter(
        pk=customer_import_id,
        status__in=[CustomerImport.Status.QUEUED, CustomerImport.Status.RUNNING],
    ).update(
        status=CustomerImport.Status.RUNNING,
        run_started_at=now,
        run_started_rows=F("rows_done"),
        updated_at=now,
    )
    if not claimed:
        return True
    customer_import = CustomerImport.objects.select_related("created_by").get(pk=customer_import_id)
    position = customer_import.rows_done
    deadline = time.monotonic() + seconds if seconds else None
    partners, chooser = partners_by_name(), ContactPersonChooser()
    try:
        with import_file_open(customer_import.file) as (header, records):
            chunks = chunks_read(
                records,
                header,
                contact_persons_by_email(),
                customer_import=customer_import,
                after=position,
            )
            for written, chunk in enumerate(chunks):
                if written & (written - 1) == 0 and written:
                    # Each time the rows this run wrote have doubled, so the planner keeps
                    # using the indexes the chunk lookups need.
                    statistics_refresh(*IMPORTED_MODELS)
                if deadline and time.monotonic() > deadline:
                    # A slice ends between chunks, well inside the task time limit; the next
                    # slice resumes at `rows_done` like a run after a crash.
                    CustomerImport.objects.filter(pk=customer_import.pk).update(
                        updated_at=timezone.now()
                    )
                    enqueue_after_commit("partners.tasks.customer_import_run", customer_import.pk)
                    return False
                if not _chunk_write(
                    customer_import=customer_import,
                    rows=chunk,
                    after=position,
                    partners=partners,
                    chooser=chooser,
                ):
                    return False
                position = chunk[-1].number
    except ImportFileError as error:
        CustomerImport.objects.filter(pk=customer_import.pk).update(
            status=CustomerImport.Status.FAILED, error=str(error), finished_at=timezone.now()
        )
        return True
    with transaction.atomic():
        finished = CustomerImport.objects.filter(
            pk=customer_import.pk, status=CustomerImport.Status.RUNNING, rows_done=position
        ).update(
            status=CustomerImport.Status.DONE,
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
        if finished:
            import_welcomes_queue(customer_import=customer_import)
    return True


# An import whose check or run shows no progress for this long lost its worker (or its
# message).
STALLED_AFTER_SECONDS = 300
# A check that stalled this many times is not handed on again: the file fails.
CHECK_ATTEMPTS = 3


@dataclass(frozen=True)
class StalledImports:
    """What the sweep found: checks and runs to hand on, and checks given up on."""

    checks: list[int]
    runs: list[int]
    failed: int


def customer_imports_stalled() -> StalledImports:
    """Imports being checked, queued or running whose row has not moved for a while.

    A check starts again from the top of the file (it writes nothing but the file's keys,
    which a second check finds written); one that stalled `CHECK_ATTEMPTS` times fails
    with a message for staff. A run is handed on and resumes after its last chunk (a second
    run of the same import is refused chunk by chunk).
    """
    stale = timezone.now() - timedelta(seconds=STALLED_AFTER_SECONDS)
    stalled = CustomerImport.objects.filter(updated_at__lt=stale)
    checking = stalled.filter(status=CustomerImport.Status.ANALYSING)
    failed = checking.filter(check_attempts__gte=CHECK_ATTEMPTS).update(
        status=CustomerImport.Status.FAILED,
        error=_(
            "The check of the file stopped before the end %(times)d times. Split the file "
            "into smaller files and upload them one by one."
        )
        % {"times": CHECK_ATTEMPTS},
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )
    running = [CustomerImport.Status.QUEUED, CustomerImport.Status.RUNNING]
    return StalledImports(
        checks=list(checking.values_list("pk", flat=True)[:100]),
        runs=list(stalled.filter(status__in=running).values_list("pk", flat=True)[:100]),
        failed=failed,
    )
