"""A backup of a whole customer life restores into a new database and new folders, whole."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from psycopg import sql

from core.backups import file_roots
from core.images import process_image
from customers.models import Customer, DataExport
from customers.privacy import data_export_build, data_export_request
from customers.services import customer_avatar_set
from loyalty import ledger
from loyalty.models import Transaction
from loyalty.vouchers import reward_redeem
from partners.services import partner_conversion_record, partner_customer_upsert
from referrals.models import Referral
from reviews.models import ReviewPhoto
from reviews.services import review_create
from tests.factories import PASSWORD, CustomerFactory
from tests.loyalty.factories import RewardFactory
from tests.partners.factories import PartnerFactory
from tests.referrals.factories import active_program
from tests.reviews.factories import SubjectFactory, photo_upload
from tests.support import BASE_DIR, database_url

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="backups use pg_dump"),
]


def _customer_life(client) -> dict[str, list[str]]:
    """Signup through a friend's link, a purchase, settlement, a redemption, a review with a
    photo and a data export; returns the files its rows name, by storage."""
    active_program()
    anna = CustomerFactory(email="anna@example.com", first_name="Anna")
    customer_avatar_set(customer=anna, photo=process_image(photo_upload("anna.png", "PNG")))
    client.get(reverse("referrals:landing", args=[anna.referral_code]))
    client.post(
        reverse("account_signup"),
        {"email": "nora@example.org", "first_name": "Nora", "password1": PASSWORD,
         "password2": PASSWORD},
    )  # fmt: skip
    nora = Customer.objects.get(user__email="nora@example.org")
    assert Referral.objects.get(referee=nora).referrer == anna
    shop = PartnerFactory()
    partner_customer_upsert(partner=shop, external_id="nora", email="nora@example.org")
    partner_conversion_record(
        partner=shop, customer=nora, order_id="A-1", amount=Decimal("80.00"), currency="EUR"
    )
    assert Transaction.objects.filter(status=Transaction.Status.PENDING).exists()
    assert ledger.settle_due(as_of=timezone.now() + timedelta(days=400)) > 0
    reward_redeem(customer=anna, reward=RewardFactory(points_cost=10))
    review_create(
        author=nora,
        subject=SubjectFactory(),
        rating=5,
        title="Lovely beans",
        body="Fresh and fruity.",
        photos=[process_image(photo_upload())],
    )
    export = data_export_request(customer=anna, source="portal")
    assert data_export_build(export_id=export.pk)
    anna.refresh_from_db()
    media = [anna.avatar.name, anna.avatar_thumbnail.name]
    for photo in ReviewPhoto.objects.all():
        media += [photo.image.name, photo.thumbnail.name]
    private = [DataExport.objects.get(pk=export.pk).archive.name]
    assert all(media) and all(private)
    return {"media": media, "private": private}


def _manage(*arguments: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_a_backup_of_a_customer_life_restores_into_a_new_database_with_every_file(client, tmp_path):
    files = _customer_life(client)
    call_command("audit_ledger")
    restored_models = (Customer, Transaction, Referral, ReviewPhoto, DataExport)
    counts = {model: model.objects.count() for model in restored_models}
    backup = tmp_path / "backup"
    call_command("backup", str(backup))
    assert sorted(path.name for path in backup.iterdir()) == [
        "database.dump",
        "manifest.json",
        "media.tar.gz",
        "private.tar.gz",
    ]

    server, _, name = database_url().rpartition("/")
    restored = f"{name}_restored"
    roots = {"media": tmp_path / "restored-media", "private": tmp_path / "restored-private"}
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": f"{server}/{restored}",
        "MEDIA_ROOT": str(roots["media"]),
        "PRIVATE_MEDIA_ROOT": str(roots["private"]),
    }
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{restored}"')
    try:
        restore = _manage("restore", str(backup), env=env)
        assert restore.returncode == 0, restore.stderr
        assert "Restored the backup" in restore.stdout
        audit = _manage("audit_ledger", env=env)
        assert audit.returncode == 0, audit.stderr
        assert "Ledger balanced" in audit.stdout
        assert _manage("migrate", "--check", env=env).returncode == 0
        with psycopg.connect(f"{server}/{restored}") as copy:
            for model in restored_models:
                count = sql.SQL("SELECT count(*) FROM {}").format(
                    sql.Identifier(model._meta.db_table)
                )
                assert copy.execute(count).fetchone()[0] == counts[model]
        originals = file_roots()
        for part, names in files.items():
            for name in names:
                assert (roots[part] / name).read_bytes() == (originals[part] / name).read_bytes()

        # Restoring again would mix two states: refused, nothing changed.
        again = _manage("restore", str(backup), env=env)
        assert again.returncode != 0
        assert "has tables: restore into a new, empty database" in again.stderr
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)')


def test_a_damaged_backup_is_refused_before_anything_is_restored(tmp_path, settings):
    backup = tmp_path / "backup"
    call_command("backup", str(backup))
    with (backup / "media.tar.gz").open("ab") as damaged:
        damaged.write(b"\0")
    settings.MEDIA_ROOT = str(tmp_path / "media")
    with pytest.raises(CommandError, match=r"media.tar.gz is missing or damaged"):
        call_command("restore", str(backup))
    assert not Path(settings.MEDIA_ROOT).exists()


def test_a_backup_goes_into_an_empty_folder(tmp_path):
    (tmp_path / "old.dump").write_bytes(b"x")
    with pytest.raises(CommandError, match="is not empty"):
        call_command("backup", str(tmp_path))
