"""Importing existing customers end to end: the run, re-runs, resumption, the report,
welcomes, the admin's pages and the command."""

from __future__ import annotations

import csv
import io
import json
import random

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import F
from django.urls import reverse

from customers.imports import import_report_lines
from customers.models import ConsentRecord, Customer, CustomerImport, User
from loyalty.audit import ledger_audit
from loyalty.models import Transaction
from loyalty.selectors import balance
from partners import imports
from partners.imports import customer_import_confirm
from partners.models import Partner, PartnerCustomer
from partners.services import partner_customer_upsert
from tests.factories import CustomerFactory
from tests.imports_support import import_and_run, import_file, semicolon_export
from tests.partners.factories import PartnerFactory
from tests.support import login_with_second_factor

pytestmark = pytest.mark.django_db


def _report(customer_import) -> list[list[str]]:
    """The rejected-rows report as a spreadsheet program reads it back."""
    text = "".join(import_report_lines(customer_import))
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=customer_import.delimiter))


@pytest.fixture
def shop():
    return PartnerFactory(name="Shop")


def _generated(count: int, *, bad_every: int = 50, seed: int = 7) -> tuple[list[str], int]:
    """`count` rows, one in `bad_every` broken in one of the ways people break them."""
    rng = random.Random(seed)
    breakages = [
        lambda n: f"broken{n}example.com;;;;;;;10;;;;",
        lambda n: f"neg{n}@example.com;;;;;;;-{n};;;;",
        lambda n: f"nan{n}@example.com;;;;;;;lots;;;;",
        lambda n: f"ghost{n}@example.com;;;;;;;;ghost@example.com;;;",
        lambda n: f"nowhere{n}@example.com;;;;;Nowhere;N{n};;;;;",
        lambda n: "row1@example.com;Again;;;;;;;;;;",
    ]
    lines, bad = [], 0
    for n in range(1, count + 1):
        if n % bad_every == 0:
            lines.append(rng.choice(breakages)(n))
            bad += 1
        else:
            consent = "yes;2020-01-02;web form" if n % 3 == 0 else "no;;"
            lines.append(
                f'row{n}@example.com;First{n};"Last\n{n}";+1 {n};en;Shop;S{n};{n % 500};;{consent}'
            )
    return lines, bad


def test_ten_thousand_rows_with_bad_ones_mixed_in_import_the_good_and_report_the_bad(shop):
    lines, bad = _generated(10_000)
    customer_import = import_and_run(semicolon_export(lines))
    assert customer_import.status == CustomerImport.Status.DONE
    assert customer_import.total_rows == 10_000
    assert (customer_import.expected_new, customer_import.expected_rejected) == (10_000 - bad, bad)
    assert (customer_import.created_count, customer_import.rejected_count) == (10_000 - bad, bad)
    assert User.objects.filter(email__startswith="row").count() == 10_000 - bad
    assert PartnerCustomer.objects.filter(partner=shop).count() == 10_000 - bad
    posted = sum(1 for n in range(1, 10_001) if n % 50 and n % 500)
    assert customer_import.balances_posted == posted
    assert ledger_audit().clean
    row7 = Customer.objects.get(user__email="row7@example.com")
    assert (row7.user.last_name, balance(customer=row7).settled) == ("Last\n7", 7)
    consent = ConsentRecord.objects.get(customer__user__email="row3@example.com")
    assert (consent.source, consent.given_through) == ("import", "web form")
    assert consent.given_at.date().isoformat() == "2020-01-02"

    report = _report(customer_import)
    assert report[0][-1] == "reason" and report[0][0] == "E-mail"
    assert len(report) == 1 + bad
    assert all(line[-1] for line in report[1:])


def test_the_same_file_twice_changes_nothing_the_second_time(shop):
    lines, _bad = _generated(500)
    content = semicolon_export(lines)
    first = import_and_run(content)
    counts = (User.objects.count(), Transaction.objects.count(), PartnerCustomer.objects.count())
    second = import_and_run(content)
    assert (User.objects.count(), Transaction.objects.count(), PartnerCustomer.objects.count()) == (
        counts
    )
    assert second.created_count == 0
    assert second.matched_count == first.created_count
    assert (second.balances_posted, second.balances_differing) == (0, 0)
    assert ledger_audit().clean


def test_a_changed_balance_on_a_rerun_is_reported_not_posted(shop):
    import_and_run(semicolon_export(["anna@example.com;Anna;;;;;;100;;;;"]))
    rerun = import_and_run(semicolon_export(["anna@example.com;Anna;;;;;;150;;;;"]))
    anna = Customer.objects.get(user__email="anna@example.com")
    assert balance(customer=anna).settled == 100
    assert rerun.balances_differing == 1
    [line] = _report(rerun)[1:]
    assert "150 here but 100 was posted" in line[-1]
    # Another source is another opening balance.
    import_and_run(semicolon_export(["anna@example.com;Anna;;;;;;150;;;;"]), source="other")
    assert balance(customer=anna).settled == 250


def test_a_customer_known_by_email_is_linked_not_duplicated(shop):
    known = CustomerFactory(email="known@example.com", first_name="Kept")
    customer_import = import_and_run(
        semicolon_export(["Known@example.com;Changed;;;;Shop;K1;40;;yes;;"])
    )
    assert customer_import.matched_count == 1 and customer_import.created_count == 0
    assert User.objects.filter(email__iexact="known@example.com").count() == 1
    known.refresh_from_db()
    assert known.user.first_name == "Kept"  # the member's own data stands
    assert not known.marketing_consent
    assert known.partner_links.get().external_id == "K1"
    assert balance(customer=known).settled == 40


def test_partner_ids_of_others_and_merchants_are_refused(shop):
    taken = CustomerFactory()
    partner_customer_upsert(partner=shop, external_id="T1", email=taken.user.email)
    PartnerFactory(name="Merchant", kind=Partner.Kind.MERCHANT)
    customer_import = import_and_run(
        semicolon_export(
            [
                "new@example.com;;;;;Shop;T1;;;;;",
                "m@example.com;;;;;merchant;M1;;;;;",
                f"{taken.user.email};;;;;Shop;OTHER;;;;;",
                "dup1@example.com;;;;;Shop;D1;;;;;",
                "dup2@example.com;;;;;Shop;D1;;;;;",
            ]
        )
    )
    reasons = [line[-1] for line in _report(customer_import)[1:]]
    assert reasons == [
        "The partner's customer id T1 is already linked to another customer.",
        "Merchant is a merchant: it sees a member only after the person says yes, so link "
        "them through the partner API.",
        "This customer is already linked to the partner under id T1.",
        "The partner's customer id D1 is on an earlier row of the file.",
    ]
    assert customer_import.created_count == 1


def test_a_run_that_dies_mid_import_resumes_where_it_stopped(shop, settings, monkeypatch):
    settings.CUSTOMER_IMPORT_CHUNK_ROWS = 100
    lines, bad = _generated(1000, bad_every=40)
    customer_import = import_file(semicolon_export(lines))
    customer_import_confirm(customer_import=customer_import, queue=False)
    commit, calls = imports._chunk_commit, []

    def dies_in_the_fourth_chunk(**kwargs):
        calls.append(1)
        if len(calls) == 4:
            # Written, then the worker is gone before the commit: the chunk rolls back.
            from customers.imports import customers_write

            with transaction.atomic():
                customers_write(
                    rows=kwargs["rows"], customer_import=customer_import, chooser=kwargs["chooser"]
                )
                raise SystemExit("killed")
        return commit(**kwargs)

    monkeypatch.setattr(imports, "_chunk_commit", dies_in_the_fourth_chunk)
    with pytest.raises(SystemExit):
        imports.customer_import_run(customer_import_id=customer_import.pk)
    customer_import.refresh_from_db()
    assert customer_import.rows_done == 300
    assert customer_import.status == CustomerImport.Status.RUNNING

    monkeypatch.setattr(imports, "_chunk_commit", commit)
    assert imports.customer_import_run(customer_import_id=customer_import.pk)
    customer_import.refresh_from_db()
    assert customer_import.status == CustomerImport.Status.DONE
    assert (customer_import.created_count, customer_import.rejected_count) == (1000 - bad, bad)
    assert customer_import.issues.count() == bad
    assert User.objects.filter(email__startswith="row").count() == 1000 - bad
    assert ledger_audit().clean


def test_a_second_run_of_the_same_import_writes_no_chunk_twice(shop, settings):
    settings.CUSTOMER_IMPORT_CHUNK_ROWS = 10
    customer_import = import_file(semicolon_export(_generated(50)[0]))
    customer_import_confirm(customer_import=customer_import, queue=False)
    CustomerImport.objects.filter(pk=customer_import.pk).update(
        status=CustomerImport.Status.RUNNING, rows_done=20
    )
    # A run that believed it was at row 10 is refused: another run went on.
    assert not imports._chunk_commit(
        customer_import=customer_import, rows=[], after=10, chooser=None
    )


def test_imported_customers_get_no_email_unless_asked(
    shop, tasks_inline, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        import_and_run(
            semicolon_export(["a@example.com;;;;;;;;;yes;;", "b@example.com;;;;;;;;;;;"])
        )
    assert mailoutbox == []


def test_a_welcome_goes_only_to_new_customers_who_agreed_with_a_link_to_set_a_password(
    shop, tasks_inline, mailoutbox, client, django_capture_on_commit_callbacks
):
    CustomerFactory(email="member@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        import_and_run(
            semicolon_export(
                [
                    "yes@example.com;Yara;;;;;;;;yes;;",
                    "no@example.com;Noah;;;;;;;;no;;",
                    "member@example.com;;;;;;;;;yes;;",
                ]
            ),
            welcome=True,
        )
    assert [message.to for message in mailoutbox] == [["yes@example.com"]]
    body = mailoutbox[0].body
    link = next(word for word in body.split() if "/accounts/password/reset/key/" in word)
    response = client.get(link.replace("http://127.0.0.1:8000", ""), follow=True)
    assert response.status_code == 200
    assert b"password1" in response.content
    assert mailoutbox[0].extra_headers.get("List-Unsubscribe")


def test_the_admin_flow_upload_preview_confirm_progress_report(
    shop, client, django_user_model, tasks_inline, django_capture_on_commit_callbacks
):
    staff = django_user_model.objects.create_superuser(email="boss@example.com", password="x")
    login_with_second_factor(client, staff)
    add = reverse("admin:customers_customerimport_add")
    assert client.get(add).status_code == 200
    upload = io.BytesIO(
        semicolon_export(["anna@example.com;Anna;;;;Shop;A1;10;;yes;;", "bad;;;;;;;;;;;"])
    )
    upload.name = "customers.csv"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(add, {"file": upload, "source": "oldshop"})
    customer_import = CustomerImport.objects.get()
    page = reverse("admin:customers_customerimport_change", args=[customer_import.pk])
    assert response.status_code == 302 and response["Location"] == page
    preview = client.get(page)
    assert preview.status_code == 200
    assert "anna@example.com" in preview.content.decode()
    assert "New customers: 1" in preview.content.decode()
    assert not User.objects.filter(email="anna@example.com").exists()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:customers_customerimport_confirm", args=[customer_import.pk]))
    progress = json.loads(
        client.get(
            reverse("admin:customers_customerimport_progress", args=[customer_import.pk])
        ).content
    )
    assert progress["status"] == "done" and progress["rows_done"] == progress["total_rows"] == 2
    assert (progress["created"], progress["rejected"]) == (1, 1)
    assert "Download the rejected rows" in client.get(page).content.decode()
    report = client.get(reverse("admin:customers_customerimport_report", args=[customer_import.pk]))
    lines = list(
        csv.reader(
            io.StringIO(b"".join(report.streaming_content).decode("utf-8-sig")), delimiter=";"
        )
    )
    assert lines[1][0] == "bad" and lines[1][-1] == "Not a valid email address."
    changelist = client.get(reverse("admin:customers_customerimport_changelist"))
    assert "customers.csv" in changelist.content.decode()


def test_staff_without_the_permission_cannot_upload_or_read_imports(
    client, django_user_model, shop
):
    staff = django_user_model.objects.create_user(
        email="s@example.com", password="x", is_staff=True
    )
    customer_import = import_file(semicolon_export(["a@example.com;;;;;;;;;;;"]))
    login_with_second_factor(client, staff)
    assert client.get(reverse("admin:customers_customerimport_add")).status_code == 403
    for name in ("progress", "report", "confirm"):
        url = reverse(f"admin:customers_customerimport_{name}", args=[customer_import.pk])
        assert client.get(url).status_code == 404


def test_the_command_with_dry_run_writes_nothing_and_without_imports(shop, tmp_path, capsys):
    path = tmp_path / "customers.csv"
    path.write_bytes(semicolon_export(["a@example.com;;;;;;;5;;;;", "bad;;;;;;;;;;;"]))
    call_command("import_customers", str(path), "--dry-run")
    out = capsys.readouterr().out
    assert "2 rows: 1 new, 0 matched, 1 rejected." in out
    assert not User.objects.filter(email="a@example.com").exists()
    assert not CustomerImport.objects.exists()
    call_command("import_customers", str(path), "--source", "legacy")
    assert "1 created, 0 matched, 1 rejected, 1 balances posted" in capsys.readouterr().out
    assert Transaction.objects.get().idempotency_key == "import:legacy:a@example.com"
    with pytest.raises(CommandError, match="no email column"):
        (tmp_path / "wrong.csv").write_text("name\nAnna\n")
        call_command("import_customers", str(tmp_path / "wrong.csv"))


def test_an_import_forgets_its_file_and_rejected_rows_after_the_keeping_time(shop, settings):
    from datetime import timedelta

    from django.utils import timezone

    from customers.imports import import_files_forget

    customer_import = import_and_run(semicolon_export(["bad;;;;;;;;;;;"]))
    storage, name = customer_import.file.storage, customer_import.file.name
    assert storage.exists(name) and customer_import.issues.exists()
    assert import_files_forget() == 0
    CustomerImport.objects.filter(pk=customer_import.pk).update(
        updated_at=timezone.now() - timedelta(days=settings.CUSTOMER_IMPORT_KEEP_DAYS + 1)
    )
    assert import_files_forget() == 1
    customer_import.refresh_from_db()
    assert not storage.exists(name) and not customer_import.issues.exists()
    assert customer_import.rejected_count == 1  # the outcome stays listed


def _welcome_turn_passes(customer_import) -> None:
    from datetime import timedelta

    from customers.imports import WELCOME_BATCH_SECONDS

    CustomerImport.objects.filter(pk=customer_import.pk).update(
        welcomes_batch_at=F("welcomes_batch_at") - timedelta(seconds=WELCOME_BATCH_SECONDS)
    )


def test_welcomes_go_out_one_batch_per_turn_of_the_import_and_never_twice(shop, mailoutbox):
    from customers.imports import import_welcomes_send

    customer_import = import_and_run(
        semicolon_export([f"w{n}@example.com;;;;;;;;;yes;;" for n in range(3)]), welcome=True
    )
    assert import_welcomes_send(customer_import_id=customer_import.pk, limit=2) == 1
    assert len(mailoutbox) == 2
    # A second task asking at once (a retry, a duplicate delivery) waits for the next turn.
    assert import_welcomes_send(customer_import_id=customer_import.pk, limit=2) == 1
    assert len(mailoutbox) == 2
    _welcome_turn_passes(customer_import)
    assert import_welcomes_send(customer_import_id=customer_import.pk, limit=2) == 0
    _welcome_turn_passes(customer_import)
    assert import_welcomes_send(customer_import_id=customer_import.pk, limit=2) == 0
    assert sorted(m.to[0] for m in mailoutbox) == [f"w{n}@example.com" for n in range(3)]


def test_one_import_turn_does_not_hold_back_another_imports_welcomes(shop, mailoutbox):
    from customers.imports import import_welcomes_send

    first = import_and_run(semicolon_export(["f@example.com;;;;;;;;;yes;;"]), welcome=True)
    second = import_and_run(
        semicolon_export(["s@example.com;;;;;;;;;yes;;"]), source="other", welcome=True
    )
    assert import_welcomes_send(customer_import_id=first.pk, limit=5) == 0
    assert import_welcomes_send(customer_import_id=second.pk, limit=5) == 0
    assert sorted(m.to[0] for m in mailoutbox) == ["f@example.com", "s@example.com"]


def test_a_partner_id_repeated_in_another_chunk_is_counted_as_rejected_in_the_preview(
    shop, settings
):
    settings.CUSTOMER_IMPORT_CHUNK_ROWS = 2
    customer_import = import_file(
        semicolon_export(
            [
                "a@example.com;;;;;Shop;S1;;;;;",
                "b@example.com;;;;;;;;;;;",
                "c@example.com;;;;;;;;;;;",
                "d@example.com;;;;;Shop;S1;;;;;",
                "A@example.com;;;;;;;;;;;",
            ]
        )
    )
    assert (customer_import.expected_new, customer_import.expected_rejected) == (3, 2)
    customer_import_confirm(customer_import=customer_import, queue=False)
    imports.customer_import_run(customer_import_id=customer_import.pk)
    reasons = [line[-1] for line in _report(customer_import)[1:]]
    assert reasons == [
        "The partner's customer id S1 is on an earlier row of the file.",
        "The same email is on an earlier row of the file.",
    ]


def test_a_stalled_preview_is_checked_again_and_fails_after_stalling_repeatedly(shop):
    from datetime import timedelta

    from django.core.files.base import ContentFile
    from django.utils import timezone

    customer_import = imports.customer_import_create(
        upload=ContentFile(semicolon_export(["a@example.com;;;;;;;;;;;"]), name="c.csv"),
        source="oldshop",
        send_welcome=False,
        created_by=None,
        queue=False,
    )
    long_ago = timezone.now() - timedelta(seconds=imports.STALLED_AFTER_SECONDS + 1)

    def worker_dies_mid_check():
        CustomerImport.objects.filter(pk=customer_import.pk).update(
            check_attempts=F("check_attempts") + 1, updated_at=long_ago
        )

    assert imports.customer_imports_stalled().checks == []  # fresh: its worker is at it
    worker_dies_mid_check()
    assert imports.customer_imports_stalled().checks == [customer_import.pk]
    checked = imports.customer_import_analyse(customer_import_id=customer_import.pk)
    assert (checked.status, checked.expected_new) == (CustomerImport.Status.READY, 1)

    CustomerImport.objects.filter(pk=customer_import.pk).update(
        status=CustomerImport.Status.ANALYSING, check_attempts=0
    )
    for _attempt in range(imports.CHECK_ATTEMPTS):
        worker_dies_mid_check()
    stalled = imports.customer_imports_stalled()
    assert (stalled.checks, stalled.failed) == ([], 1)
    customer_import.refresh_from_db()
    assert customer_import.status == CustomerImport.Status.FAILED
    assert "Split the file" in customer_import.error


def test_the_sweep_hands_a_stalled_preview_to_a_worker(shop, tasks_inline):
    from datetime import timedelta

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from partners.tasks import customer_imports_sweep

    customer_import = imports.customer_import_create(
        upload=ContentFile(semicolon_export(["a@example.com;;;;;;;;;;;"]), name="c.csv"),
        source="oldshop",
        send_welcome=False,
        created_by=None,
        queue=False,
    )
    CustomerImport.objects.filter(pk=customer_import.pk).update(
        updated_at=timezone.now() - timedelta(seconds=imports.STALLED_AFTER_SECONDS + 1)
    )
    assert customer_imports_sweep() == 1
    customer_import.refresh_from_db()
    assert customer_import.status == CustomerImport.Status.READY


def test_an_address_that_signs_up_during_the_chunk_is_matched_on_the_second_attempt(
    shop, monkeypatch
):
    match, calls = imports.rows_match, []

    def someone_signs_up_meanwhile(rows):
        match(rows)
        calls.append(1)
        if len(calls) == 2:  # after the preview's check, in the run's first attempt
            CustomerFactory(email="racer@example.com")

    monkeypatch.setattr(imports, "rows_match", someone_signs_up_meanwhile)
    customer_import = import_and_run(
        semicolon_export(["racer@example.com;;;;;Shop;R1;30;;;;", "calm@example.com;;;;;;;;;;;"])
    )
    assert len(calls) == 3  # the check, the refused attempt, the attempt that committed
    assert (customer_import.created_count, customer_import.matched_count) == (1, 1)
    racer = Customer.objects.get(user__email="racer@example.com")
    assert balance(customer=racer).settled == 30
    assert racer.partner_links.get().external_id == "R1"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_one_batch_per_turn_however_many_tasks_ask(shop, smtp_sink):
    from customers.tasks import email_import_welcomes
    from tests.support import CeleryWorker, wait_for

    customer_import = import_and_run(
        semicolon_export(
            [*(f"w{n}@example.com;;;;;;;;;yes;;" for n in range(3)), "no@example.com;;;;;;;;;;;"]
        ),
        welcome=True,
    )
    worker = CeleryWorker(
        env={"EMAIL_URL": smtp_sink.url, "CUSTOMER_IMPORT_WELCOMES_PER_MINUTE": "2"}
    ).start()
    try:
        # The task the finished import queued, a retry, and a duplicate delivery, at once.
        for _task in range(3):
            email_import_welcomes.delay(customer_import.pk)
        # The three asking tasks ran, and the emails they stored went out (their delivery
        # tasks succeed too, so the log's count alone would end the wait early).
        wait_for(
            lambda: (
                sum(
                    "email_import_welcomes[" in line and "succeeded" in line
                    for line in worker.log().splitlines()
                )
                >= 3
                and len(smtp_sink.messages) >= 2
            ),
            timeout=90,
        )
    finally:
        worker.stop()
    assert sorted(message["To"] for message in smtp_sink.messages) == [
        "w0@example.com",
        "w1@example.com",
    ]
    assert Customer.objects.filter(welcomed_at__isnull=False).count() == 2
