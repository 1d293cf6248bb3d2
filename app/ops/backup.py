"""Backups: one archive with a consistent copy of the database, the stored files and the settings.

The archive is a gzip'd tar:

    manifest.json          format, time, schema revision, row counts, file count
    database/<table>.jsonl one JSON object per row, every table of the models
    files/...              the file store (uploads, thumbnails, generated PDFs)
    settings/secret_key    the generated secret key, when the data directory holds one
    settings/settings.json the other settings in force (for reference; never applied)

The database copy is a snapshot taken while the site runs: SQLite's online backup API, or one
REPEATABLE READ transaction on PostgreSQL. Rows are written as JSON, so an archive made on SQLite
restores into PostgreSQL and back. Restoring is one transaction: it loads every row or none.
The search index is not archived; it is rebuilt from the restored database.
"""
from __future__ import annotations

import io
import json
import os
import sqlite3
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
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


def _decoder(column: sa.Column):
    kind = column.type
    if isinstance(kind, sa.DateTime):
        return lambda v: None if v is None else datetime.fromisoformat(v)
    if isinstance(kind, sa.Date):
        return lambda v: None if v is None else date.fromisoformat(v)
    return None


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
            store = current_app.config["COLLATERAL_DIR"]
            for path in sorted(p for p in store.rglob("*") if p.is_file()):
                archive.add(path, arcname=f"files/{path.relative_to(store).as_posix()}", recursive=False)
                report.files += 1
                report.bytes += path.stat().st_size
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


def _read_manifest(archive: tarfile.TarFile) -> dict:
    try:
        manifest = json.load(archive.extractfile("manifest.json"))
    except (KeyError, json.JSONDecodeError, AttributeError):
        raise BackupError("This is not a Bridge backup: it has no readable manifest.json.") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"This backup's format ({manifest.get('format')}) is not one this Bridge reads ({FORMAT}).")
    return manifest


def current_revision() -> str:
    from alembic.migration import MigrationContext

    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() or ""


def _rows_present(connection: sa.Connection) -> int:
    return sum(connection.scalar(sa.select(sa.func.count()).select_from(t)) for t in tables())


def restore(source: Path, *, replace: bool = False) -> Report:
    """Load `source` into this database and file store.

    Refuses when the database already holds rows (unless `replace`, which deletes them in the same
    transaction) or when the backup's schema revision differs from this database's.
    """
    try:
        archive = tarfile.open(source, mode="r:gz")  # noqa: SIM115 (closed by the with-block below)
    except (OSError, tarfile.TarError) as error:
        raise BackupError(f"Cannot read {source}: {error}") from None
    with archive:
        try:
            archive.getmembers()  # reads to the end: a truncated or damaged archive fails here, before any change
        except (OSError, EOFError, zlib.error, tarfile.TarError) as error:
            raise BackupError(f"{source} is damaged or incomplete ({error}); nothing was changed.") from None
        manifest = _read_manifest(archive)
        here = current_revision()
        if manifest["revision"] != here:
            raise BackupError(f"The backup is at schema revision {manifest['revision']}, this database at "
                                f"{here or 'none'}. Run `flask db upgrade` (or use the Bridge version that "
                                "made the backup) so that both match.")
        report = Report(revision=here)
        known = {t.name for t in tables()}
        missing = [name for name in manifest["rows"] if name not in known]
        if missing:
            raise BackupError(f"The backup has tables this Bridge does not know: {', '.join(missing)}.")
        try:
            with db.engine.begin() as connection:
                present = _rows_present(connection)
                if present and not replace:
                    raise BackupError(f"This database is not empty ({present} rows). Restore into a new "
                                        "database, or pass --replace to delete what is there.")
                for table in reversed(tables()):
                    connection.execute(table.delete())
                for table in tables():
                    report.rows[table.name] = _load_table(connection, table, archive)
                _reset_sequences(connection)
        except (json.JSONDecodeError, KeyError, ValueError, sa.exc.DBAPIError) as error:
            raise BackupError(f"The backup could not be loaded, nothing was changed: {error}") from None
        report.files, report.bytes = _restore_files(archive)
        _restore_secret_key(archive)
    return report


def _load_table(connection: sa.Connection, table: sa.Table, archive: tarfile.TarFile) -> int:
    try:
        member = archive.extractfile(f"database/{table.name}.jsonl")
    except KeyError:
        return 0
    decoders = {c.name: d for c in table.columns if (d := _decoder(c))}
    batch, count = [], 0
    for line in member:
        row = json.loads(line)
        for name, decode in decoders.items():
            if name in row:
                row[name] = decode(row[name])
        batch.append(row)
        if len(batch) >= CHUNK:
            connection.execute(table.insert(), batch)
            count, batch = count + len(batch), []
    if batch:
        connection.execute(table.insert(), batch)
        count += len(batch)
    return count


def _reset_sequences(connection: sa.Connection) -> None:
    """PostgreSQL: make each id sequence continue after the restored ids."""
    if connection.dialect.name != "postgresql":
        return  # SQLite takes the next id from the rows themselves
    for table in tables():
        key = list(table.primary_key.columns)
        if len(key) == 1 and isinstance(key[0].type, sa.Integer) and key[0].autoincrement in (True, "auto"):
            connection.execute(sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', '{key[0].name}'), "
                f"COALESCE((SELECT MAX({key[0].name}) FROM {table.name}), 0) + 1, false)"))


def _restore_files(archive: tarfile.TarFile) -> tuple[int, int]:
    store: Path = current_app.config["COLLATERAL_DIR"]
    count = size = 0
    for member in archive.getmembers():
        if not member.name.startswith("files/") or not member.isfile():
            continue
        member.name = member.name[len("files/"):]
        archive.extract(member, store, filter="data")  # refuses absolute paths, "..", links out
        count, size = count + 1, size + member.size
    return count, size


def _restore_secret_key(archive: tarfile.TarFile) -> bool:
    """Bring back the generated secret key (sessions, share viewer hashes) unless one is set by env."""
    if os.environ.get("BRIDGE_SECRET_KEY"):
        return False
    try:
        key = archive.extractfile("settings/secret_key").read()
    except KeyError:
        return False
    key_file = current_app.config["DATA_DIR"] / "secret_key"
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return True
