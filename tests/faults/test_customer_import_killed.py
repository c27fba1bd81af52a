"""A real worker SIGKILLed in the middle of a customer import: after a restart the import
resumes after the last chunk that committed, and ends with every row once."""

from __future__ import annotations

import pytest

from customers.models import CustomerImport, User
from loyalty.audit import ledger_audit
from loyalty.models import Transaction
from partners.imports import customer_import_confirm
from partners.models import PartnerCustomer
from partners.tasks import customer_import_run
from tests.imports_support import import_file, semicolon_export
from tests.partners.factories import PartnerFactory
from tests.support import CeleryWorker, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROWS = 5000


def _rows() -> tuple[list[str], int]:
    lines, bad = [], 0
    for n in range(1, ROWS + 1):
        if n % 97 == 0:
            lines.append(f"broken{n};;;;;;;;;;;")
            bad += 1
        else:
            lines.append(f"c{n}@example.com;C;{n};;;Shop;S{n};{n % 200};;no;;")
    return lines, bad


def _done(pk: int) -> int:
    return CustomerImport.objects.get(pk=pk).rows_done


def test_worker_killed_mid_import_resumes_with_no_row_twice_and_none_lost():
    PartnerFactory(name="Shop")
    lines, bad = _rows()
    customer_import = import_file(semicolon_export(lines))
    assert customer_import.total_rows == ROWS
    customer_import_confirm(customer_import=customer_import, queue=False)
    pk = customer_import.pk
    worker = CeleryWorker(env={"CUSTOMER_IMPORT_CHUNK_ROWS": "50"}).start()
    try:
        customer_import_run.delay(pk)
        wait_for(lambda: _done(pk) >= 500, timeout=120, interval=0.05)
        worker.kill()
        stopped_at = _done(pk)
        assert 500 <= stopped_at < ROWS
        # What committed is exactly the chunks before `rows_done`, nothing of the next one.
        good_before = stopped_at - stopped_at // 97
        assert User.objects.filter(email__startswith="c").count() == good_before
        assert ledger_audit().clean

        worker.restart()
        # The sweeper hands the import on, and the broker may deliver the lost task again:
        # two runs of one import overlap, and chunk by chunk only one may write.
        customer_import_run.delay(pk)
        customer_import_run.delay(pk)
        wait_for(
            lambda: CustomerImport.objects.get(pk=pk).status == CustomerImport.Status.DONE,
            timeout=240,
        )
        wait_for(worker.idle, timeout=60)
    finally:
        worker.stop()
    customer_import.refresh_from_db()
    assert (customer_import.created_count, customer_import.rejected_count) == (ROWS - bad, bad)
    assert User.objects.filter(email__startswith="c").count() == ROWS - bad
    assert PartnerCustomer.objects.count() == ROWS - bad
    assert customer_import.issues.count() == bad
    balances = sum(1 for n in range(1, ROWS + 1) if n % 97 and n % 200)
    assert Transaction.objects.filter(kind="opening_balance").count() == balances
    assert customer_import.balances_posted == balances
    assert ledger_audit().clean
