"""Staff import customers in a real browser: upload, preview, confirm, the progress bar
moving as a real worker imports, and the report of rejected rows downloaded."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from playwright.sync_api import expect

from customers.models import CustomerImport, User
from tests.browser.accessibility import assert_accessible
from tests.imports_support import semicolon_export
from tests.partners.factories import PartnerFactory
from tests.support import CeleryWorker, login_with_second_factor

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROWS = 1500


@pytest.fixture
def import_worker(transactional_db):
    worker = CeleryWorker(env={"CUSTOMER_IMPORT_CHUNK_ROWS": "5"}).start()
    yield worker
    worker.stop()


def _signed_in_as_staff(page, live_server) -> None:
    """A superuser's session with its second factor used, as the admin tests make theirs."""
    boss = User.objects.create_superuser(email="boss@example.com", password="unused-here")
    client = Client()
    login_with_second_factor(client, boss)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def test_staff_upload_preview_confirm_watch_progress_and_download_the_report(
    page, live_server, import_worker, tmp_path
):
    PartnerFactory(name="Shop")
    lines = [
        f"c{n}@example.com;Cora;Nr {n};;en;Shop;S{n};{n % 50};;no;;"
        if n % 100
        else f"broken{n};;;;;;;;;;;"
        for n in range(1, ROWS + 1)
    ]
    upload = tmp_path / "customers.csv"
    upload.write_bytes(semicolon_export(lines))
    _signed_in_as_staff(page, live_server)

    page.goto("/admin/customers/customerimport/add/")
    assert_accessible(page)
    page.get_by_label("CSV file").set_input_files(str(upload))
    page.get_by_label("Source").fill("oldshop")
    page.get_by_role("button", name="Upload and preview").click()

    # The check runs in the worker; the page follows it and shows the preview when ready.
    expect(page.get_by_role("button", name="Confirm and import")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("New customers: 1485")).to_be_visible()
    expect(page.get_by_text("Rejected: 15")).to_be_visible()
    expect(page.get_by_role("cell", name="c1@example.com")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Confirm and import").click()
    bar = page.get_by_label("Rows imported")
    expect(bar).to_be_visible()
    # The bar moves while the worker imports (read after a reload too: it is the row's).
    page.wait_for_function(
        "() => { const bar = document.querySelector('progress');"
        " return bar && bar.value > 0 && bar.value < bar.max; }",
        timeout=60_000,
    )
    # A fresh load (another tab) shows the same progress: it is the import's row, not the page's.
    again = page.context.new_page()
    again.goto(page.url)
    expect(again.get_by_label("Rows imported")).to_be_visible()
    assert again.locator("progress").evaluate("bar => bar.value") > 0
    again.close()

    download_link = page.get_by_role("link", name="Download the rejected rows")
    expect(download_link).to_be_visible(timeout=120_000)
    assert CustomerImport.objects.get().status == CustomerImport.Status.DONE
    assert_accessible(page)
    with page.expect_download() as download:
        download_link.click()
    text = download.value.path().read_text(encoding="utf-8-sig")
    report = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert report[0][-1] == "reason"
    assert [line[0] for line in report[1:]] == [f"broken{n}" for n in range(100, ROWS + 1, 100)]
    assert User.objects.filter(email__startswith="c").count() == ROWS - 15

    page.goto("/admin/customers/customerimport/")
    expect(page.get_by_role("link", name="customers.csv")).to_be_visible()
    assert_accessible(page)
