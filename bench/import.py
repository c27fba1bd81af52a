"""Customer import speed and memory on PostgreSQL.

Imports a generated file of 100,000 customers (names, a partner's id, an opening balance
for most, marketing consent for a third) from upload to the last row, as the admin's
tasks do (check, then run), and compares the rate with a raw `COPY` of the same rows
into copies of the same tables, timed in the same run (goal: at least 0.15 of it, and
under 60 s). Then measures the worker's peak memory for 100,000 and 1,000,000 rows,
each in a fresh process, beside the memory of that process before the import.

    .venv/bin/python bench/import.py [--rows 100000] [--big-rows 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from common import report, scratch_database

HEADER = (
    "email;first_name;last_name;phone;language;partner;external_id;opening_balance;"
    "contact_person;marketing_consent;consent_date;consent_source\r\n"
)


def write_file(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        out.write(HEADER)
        for n in range(1, rows + 1):
            consent = "yes;2021-05-06;shop till" if n % 3 == 0 else "no;;"
            balance = n % 1000
            out.write(
                f"customer{n}@example.com;First{n};Last{n};+44 20 {n:07d};en;Shop;S{n};"
                f"{balance};care@example.com;{consent}\r\n"
            )


def peak_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def import_once(path: Path) -> dict:
    """Upload, check, confirm and run one file; seconds per phase."""
    from django.core.files import File

    from customers.models import CustomerImport
    from partners.imports import (
        customer_import_analyse,
        customer_import_confirm,
        customer_import_create,
        customer_import_run,
    )

    start = time.perf_counter()
    with path.open("rb") as handle:
        customer_import = customer_import_create(
            upload=File(handle, name=path.name),
            source="bench",
            send_welcome=False,
            created_by=None,
            queue=False,
        )
    uploaded = time.perf_counter()
    customer_import = customer_import_analyse(customer_import_id=customer_import.pk)
    checked = time.perf_counter()
    customer_import_confirm(customer_import=customer_import, queue=False)
    customer_import_run(customer_import_id=customer_import.pk)
    done = time.perf_counter()
    customer_import.refresh_from_db()
    assert customer_import.status == CustomerImport.Status.DONE, customer_import.error
    assert customer_import.rejected_count == 0
    return {
        "upload": uploaded - start,
        "check": checked - uploaded,
        "run": done - checked,
        "total": done - start,
        "created": customer_import.created_count,
        "balances": customer_import.balances_posted,
    }


COPIED_TABLES = [
    "customers_user",
    "account_emailaddress",
    "customers_customer",
    "customers_consentrecord",
    "partners_partnercustomer",
    "loyalty_account",
    "loyalty_transaction",
    "loyalty_entry",
]


def raw_copy_seconds(rows: int, partner_id: int, contact_id: int, system_account: int) -> float:
    """COPY the rows the import writes into copies of its tables (with their indexes)."""
    from django.db import connection

    now = "2026-01-01 00:00:00+00"
    data: dict[str, list[tuple]] = {table: [] for table in COPIED_TABLES}
    entry = 0
    for n in range(1, rows + 1):
        email = f"customer{n}@example.com"
        data["customers_user"].append((n, "!" + "x" * 40, False, email, f"First{n}",
                                       f"Last{n}", False, True, now))  # fmt: skip
        data["account_emailaddress"].append((n, n, email, False, True))
        consent = n % 3 == 0
        data["customers_customer"].append(
            (n, str(uuid.uuid4()), n, f"C{n:07d}", f"+44 20 {n:07d}", consent, now if consent
             else None, contact_id, "en", now, "email", True, "", "", "", "")
        )  # fmt: skip
        if consent:
            data["customers_consentrecord"].append(
                (n, n, "marketing", True, "import", now, "shop till", now)
            )
        data["partners_partnercustomer"].append((n, partner_id, n, f"S{n}", "active", True, now))
        balance = n % 1000
        if balance:
            data["loyalty_account"].append((n, n, balance, 0, now, now, 0, 0, 0))
            data["loyalty_transaction"].append(
                (n, str(uuid.uuid4()), "opening_balance", "posted", f"import:bench:{email}",
                 "import", "x", "Opening balance", "opening_balance", "{}", "", now, now)
            )  # fmt: skip
            entry += 2
            data["loyalty_entry"].append((entry - 1, n, n, balance))
            data["loyalty_entry"].append((entry, n, system_account, -balance))
    columns = {
        "customers_user": "id, password, is_superuser, email, first_name, last_name, is_staff, "
        "is_active, date_joined",
        "account_emailaddress": 'id, user_id, email, verified, "primary"',
        "customers_customer": "id, public_id, user_id, referral_code, phone, marketing_consent, "
        "marketing_consent_at, contact_person_id, language, created_at, preferred_channel, "
        "notification_emails, display_name, interests, avatar, avatar_thumbnail",
        "customers_consentrecord": "id, customer_id, topic, granted, source, given_at, "
        "given_through, recorded_at",
        "partners_partnercustomer": "id, partner_id, customer_id, external_id, status, "
        "created_customer, created_at",
        "loyalty_account": "id, customer_id, settled_balance, pending_balance, last_activity_at, "
        "created_at, tier_points, tier_referrals, tier_list_version",
        "loyalty_transaction": "id, public_id, kind, status, idempotency_key, cause, cause_ref, "
        "memo, memo_kind, memo_params, reason, created_at, posted_at",
        "loyalty_entry": "id, transaction_id, account_id, amount",
    }
    with connection.cursor() as cursor:
        for table in COPIED_TABLES:
            cursor.execute(f"CREATE TABLE bench_{table} (LIKE {table} INCLUDING ALL)")
        raw = cursor.connection
        start = time.perf_counter()
        with raw.transaction():
            for table in COPIED_TABLES:
                with raw.cursor().copy(f"COPY bench_{table} ({columns[table]}) FROM STDIN") as copy:
                    for record in data[table]:
                        copy.write_row(record)
        elapsed = time.perf_counter() - start
        for table in COPIED_TABLES:
            cursor.execute(f"DROP TABLE bench_{table}")
    return elapsed


def child(rows: int, compare: bool) -> None:
    """One measurement in this process: print one JSON line."""
    with scratch_database(f"import{rows}"):
        from loyalty.ledger import system_account
        from partners.models import Partner
        from tests.factories import ContactPersonFactory
        from tests.partners.factories import PartnerFactory

        partner = PartnerFactory(name="Shop", kind=Partner.Kind.OWN)
        contact = ContactPersonFactory(email="care@example.com")
        issued = system_account("points_issued")
        folder = Path(tempfile.mkdtemp(prefix="kindred-import-bench-"))
        path = folder / "customers.csv"
        write_file(path, rows)
        before = peak_kib()
        times = import_once(path)
        after = peak_kib()
        figures = {
            "rows": rows,
            "file_mib": round(path.stat().st_size / 2**20, 1),
            "peak_rss_before_mib": round(before / 1024, 1),
            "peak_rss_after_mib": round(after / 1024, 1),
            **{f"{k}_seconds": round(v, 2) for k, v in times.items() if k not in ("created",
                                                                                  "balances")},
            "created": times["created"],
            "balances": times["balances"],
        }  # fmt: skip
        if compare:
            figures["copy_seconds"] = round(
                raw_copy_seconds(rows, partner.pk, contact.pk, issued.pk), 2
            )
        path.unlink()
    print("RESULT " + json.dumps(figures))


def run_child(rows: int, compare: bool) -> dict:
    command = [sys.executable, __file__, "--child", "--rows", str(rows)]
    if compare:
        command.append("--compare")
    env = {**os.environ, "CUSTOMER_IMPORT_SLICE_SECONDS": "0", "LOG_LEVEL": "WARNING"}
    output = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--big-rows", type=int, default=1_000_000)
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--compare", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(args.rows, args.compare)
        return

    small = run_child(args.rows, compare=True)
    big = run_child(args.big_rows, compare=False) if args.big_rows else None
    rate = args.rows / small["total_seconds"]
    copy_rate = args.rows / small["copy_seconds"]
    figures = {
        "rows": args.rows,
        "import_seconds": small["total_seconds"],
        "check_seconds": small["check_seconds"],
        "run_seconds": small["run_seconds"],
        "import_rows_per_second": round(rate),
        "copy_seconds": small["copy_seconds"],
        "copy_rows_per_second": round(copy_rate),
        "ratio_to_copy": round(rate / copy_rate, 3),
        "goal_ratio": 0.15,
        "goal_seconds": 60,
        "peak_rss_mib": small["peak_rss_after_mib"],
        "peak_rss_before_import_mib": small["peak_rss_before_mib"],
    }
    rows = [
        ("rows imported", f"{args.rows:,}"),
        ("upload to last row", f"{small['total_seconds']:.1f} s ({rate:,.0f} rows/s)"),
        ("  of which check (preview)", f"{small['check_seconds']:.1f} s"),
        ("  of which run", f"{small['run_seconds']:.1f} s"),
        ("raw COPY, same rows and tables", f"{small['copy_seconds']:.1f} s ({copy_rate:,.0f}/s)"),
        ("ratio to COPY (goal >= 0.15)", f"{rate / copy_rate:.3f}"),
        (f"peak memory, {args.rows:,} rows",
         f"{small['peak_rss_after_mib']} MiB (process before: {small['peak_rss_before_mib']})"),
    ]  # fmt: skip
    if big:
        figures.update(
            big_rows=args.big_rows,
            big_import_seconds=big["total_seconds"],
            big_peak_rss_mib=big["peak_rss_after_mib"],
            big_peak_rss_before_import_mib=big["peak_rss_before_mib"],
        )
        rows.append(
            (
                f"peak memory, {args.big_rows:,} rows",
                f"{big['peak_rss_after_mib']} MiB (process before: "
                f"{big['peak_rss_before_mib']}; {big['total_seconds']:.0f} s)",
            )
        )
    report("Customer import on PostgreSQL", rows, figures)


if __name__ == "__main__":
    main()
