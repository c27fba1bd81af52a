"""Backup and restore: the PostgreSQL database (pg_dump) and the media and private files.

A backup is a folder: `database.dump` (pg_dump's custom format), `media.tar.gz`,
`private.tar.gz` and `manifest.json` with each part's SHA-256. The database is dumped
before the files are read, so every file a row names is in the archives (a file that
belongs to no row is harmless; a row whose file is missing is not). A restore checks the
manifest, then loads into an empty database and empty file folders only: it never mixes
a backup with what is already there.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tarfile
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import connection

DATABASE_PART = "database.dump"
FILE_PARTS = {"media": "media.tar.gz", "private": "private.tar.gz"}
MANIFEST = "manifest.json"


class BackupError(Exception):
    """A backup or restore that cannot be done as asked; nothing was changed."""


def file_roots() -> dict[str, Path]:
    """The folders a backup holds: uploads (MEDIA_ROOT) and private files (data exports,
    customer imports)."""
    return {
        "media": Path(settings.MEDIA_ROOT),
        "private": Path(settings.STORAGES["private"]["OPTIONS"]["location"]),
    }


def _libpq_arguments(database_url: str | None) -> tuple[list[str], dict[str, str]]:
    """pg_dump's and pg_restore's connection options: a URL given, else Django's database."""
    if connection.vendor != "postgresql":
        raise BackupError("Backups use pg_dump: the database must be PostgreSQL.")
    if database_url:
        return [f"--dbname={database_url}"], dict(os.environ)
    params = connection.settings_dict
    arguments = [f"--dbname={params['NAME']}"]
    for option, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if params.get(key):
            arguments.append(f"{option}={params[key]}")
    environment = dict(os.environ)
    if params.get("PASSWORD"):
        environment["PGPASSWORD"] = params["PASSWORD"]
    return arguments, environment


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _run(command: list[str], environment: dict[str, str]) -> None:
    finished = subprocess.run(  # noqa: S603 - pg_dump/pg_restore with our own arguments
        command, env=environment, capture_output=True, text=True, check=False
    )
    if finished.returncode != 0:
        raise BackupError(f"{command[0]} failed: {finished.stderr.strip()[-2000:]}")


def backup_create(*, destination: Path, database_url: str | None = None) -> Path:
    """Write a backup into `destination` (a new or empty folder); returns the manifest.

    `database_url` dumps from another address of the same database (PostgreSQL itself
    when the site reaches it through PgBouncer).
    """
    destination.mkdir(parents=True, exist_ok=True)
    if any(destination.iterdir()):
        raise BackupError(f"{destination} is not empty: a backup goes into a folder of its own.")
    arguments, environment = _libpq_arguments(database_url)
    dump = destination / DATABASE_PART
    _run(["pg_dump", "--format=custom", "--no-password", f"--file={dump}", *arguments], environment)
    counts = {}
    for part, root in file_roots().items():
        files = 0
        with tarfile.open(destination / FILE_PARTS[part], "w:gz") as archive:
            if root.is_dir():
                for path in sorted(root.rglob("*")):
                    if path.is_file():
                        archive.add(path, arcname=str(path.relative_to(root)))
                        files += 1
        counts[part] = files
    parts = [DATABASE_PART, *FILE_PARTS.values()]
    manifest = destination / MANIFEST
    manifest.write_text(
        json.dumps(
            {
                "created_at": datetime.now(UTC).isoformat(),
                "files": counts,
                "sha256": {name: _sha256(destination / name) for name in parts},
            },
            indent=2,
        )
    )
    return manifest


def backup_check(*, source: Path) -> dict:
    """The manifest of the backup in `source`, once every part matches its checksum."""
    try:
        manifest = json.loads((source / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        raise BackupError(f"{source} holds no readable {MANIFEST}: {error}") from error
    for name, expected in manifest["sha256"].items():
        path = source / name
        if not path.is_file() or _sha256(path) != expected:
            raise BackupError(f"{name} is missing or damaged (its checksum differs).")
    return manifest


def backup_restore(*, source: Path, database_url: str | None = None) -> dict:
    """Load the backup in `source` into the (empty) database and the (empty) file folders."""
    manifest = backup_check(source=source)
    if connection.introspection.table_names():
        raise BackupError(
            f"The database {connection.settings_dict['NAME']} has tables: restore into a new, "
            "empty database."
        )
    roots = file_roots()
    for part, root in roots.items():
        if root.is_dir() and any(path.is_file() for path in root.rglob("*")):
            raise BackupError(f"{root} ({part} files) is not empty: restore into empty folders.")
    arguments, environment = _libpq_arguments(database_url)
    _run(
        ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
         "--single-transaction", "--no-password", *arguments, str(source / DATABASE_PART)],
        environment,
    )  # fmt: skip
    for part, root in roots.items():
        root.mkdir(parents=True, exist_ok=True)
        with tarfile.open(source / FILE_PARTS[part], "r:gz") as archive:
            # "data": no absolute paths, links out of the folder or device files.
            archive.extractall(root, filter="data")
    return manifest
