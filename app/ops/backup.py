"""Backups: one archive with a consistent copy of the database, the stored files and the settings.

The archive is a gzip'd tar:

    manifest.json          format, time, schema revision, row counts, file count
    database/<table>.jsonl one JSON object per row, every table of the models
    files/...              the file store (uploads, thumbnails, generated PDFs)
    settings/secret_key    the generated secret key, when the data directory holds one
    settings/settings.json the other settings in force (for reference; never applied)

The database copy is a snapshot taken while the site runs: SQLite's online backup API, or one
REPEATABLE READ transaction on PostgreSQL. Rows are written as JSON, so an archive made on SQLite
restores into PostgreSQL and back. Restoring (app/ops/restore.py) is all or nothing.
The search index is not archived; it is rebuilt from the restored database.
"""
from __future__ import annotations

import io
import json
import os
import sqlite3
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.files import storage
from app.models import utcnow

FORMAT = 1
CHUNK = 1000
SETTINGS_SHOWN = ("MAX_UPLOAD_MB", "EXTRACT_TIMEOUT_S", "EXTRACT_MEMORY_MB", "USAGE_FLUSH_MS", "USAGE_BATCH",
                  "COMPANY_NAME", "RENDER_TIMEOUT_S", "RENDER_MEMORY_MB", "LOGIN_MAX_FAILURES", "LOGIN_WINDOW_S")


class BackupError(Exception):
    """A user-facing reason why a backup or restore cannot go ahead."""


@dataclass
class Report:
    revision: str
    rows: dict[str, int] = field(default_factory=dict)
    files: int = 0
    bytes: int = 0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def tables() -> list[sa.Table]:
    """Every table of the models, parents before children."""
    return list(db.metadata.sorted_tables)


def _encode(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


@contextmanager
def snapshot() -> Iterator[sa.Connection]:
    """A read-only connection that sees the database as it was at one instant."""
    if db.engine.dialect.name == "sqlite":
        with tempfile.TemporaryDirectory() as scratch:
            copy = Path(scratch) / "snapshot.db"
            source = db.engine.raw_connection()
            try:
                target = sqlite3.connect(copy)
                source.driver_connection.backup(target)
                target.close()
            finally:
                source.close()
            engine = sa.create_engine(f"sqlite:///{copy}", poolclass=sa.NullPool)
            try:
                with engine.connect() as connection:
                    yield connection
            finally:
                engine.dispose()
    else:
        with db.engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
            with connection.begin():
                connection.execute(sa.text("SET TRANSACTION READ ONLY"))
                yield connection


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, int(utcnow().timestamp())
    archive.addfile(info, io.BytesIO(data))


def create(target: Path) -> Report:
    """Write a backup archive to `target` (atomically: a partial archive never has that name)."""
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.with_name(f".{target.name}.partial")
    report = Report(revision="")
    try:
        fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds the secret key
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
            with snapshot() as connection:
                report.revision = connection.scalar(sa.text("SELECT version_num FROM alembic_version")) or ""
                for table in tables():
                    with tempfile.TemporaryFile() as rows:
                        count = 0
                        for row in connection.execute(sa.select(table)).mappings():
                            rows.write(json.dumps({k: _encode(v) for k, v in row.items()},
                                                  ensure_ascii=False).encode() + b"\n")
                            count += 1
                        report.rows[table.name] = count
                        info = tarfile.TarInfo(f"database/{table.name}.jsonl")
                        info.size, info.mode = rows.tell(), 0o644
                        rows.seek(0)
                        archive.addfile(info, rows)
            for stored in storage.every_file():
                info = tarfile.TarInfo(f"files/{stored.name}")
                info.size, info.mode, info.mtime = stored.size, 0o644, int(utcnow().timestamp())
                with stored.open() as data:
                    archive.addfile(info, data)
                report.files += 1
                report.bytes += stored.size
            key_file = current_app.config["DATA_DIR"] / "secret_key"
            if key_file.exists():
                _add_bytes(archive, "settings/secret_key", key_file.read_bytes(), 0o600)
            shown = {k: str(current_app.config[k]) for k in SETTINGS_SHOWN if k in current_app.config}
            _add_bytes(archive, "settings/settings.json", json.dumps(shown, indent=2).encode())
            manifest = {"format": FORMAT, "created_at": utcnow().isoformat(), "revision": report.revision,
                        "database": db.engine.dialect.name, "rows": report.rows, "files": report.files}
            _add_bytes(archive, "manifest.json", json.dumps(manifest, indent=2).encode())
        scratch.replace(target)
    finally:
        scratch.unlink(missing_ok=True)
    return report
