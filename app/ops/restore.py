"""Restoring a backup made by app/ops/backup.py, all or nothing.

1. Everything is checked before anything changes: the archive reads to its end, the manifest has
   the expected shape, format and schema revision, and every member is one the archive should hold
   (manifest.json, database/<known table>.jsonl for exactly the manifest's tables, files/<path>,
   settings/secret_key, settings/settings.json): a regular file, under a plain relative name (no
   "..", no absolute path, no link, no device), of a plausible size, listed once, with as many
   files/ members as the manifest says.
2. The files are written to a new store beside the file store (`storage.new_store`), the secret key
   to a staging file in the data directory.
3. The rows are loaded in one database transaction (after deleting the old ones, with --replace),
   each table's count checked against the manifest; any error rolls it all back.
4. Only after the commit is the new store swapped in for the old (`storage.replace_store`: renames)
   and the key replaced (a rename). The search index is rebuilt by the caller.

Any failure before the commit leaves the database, the files, the secret key and the index as they
were, and raises RestoreError with a one-line reason.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import tarfile
import zlib
from datetime import date, datetime
from pathlib import Path, PurePosixPath

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.files import storage
from app.ops.backup import CHUNK, FORMAT, BackupError, Report, tables

MAX_MANIFEST_BYTES = 1_000_000
MAX_KEY_BYTES = 1024
SETTINGS = {"settings/secret_key": MAX_KEY_BYTES, "settings/settings.json": 1_000_000}
READ_ERRORS = (OSError, EOFError, zlib.error, tarfile.TarError)


class RestoreError(BackupError):
    """Why a restore did not happen (nothing was changed)."""


def restore(source: Path, *, replace: bool = False) -> Report:
    """Load the backup `source` into this database and file store, or change nothing (RestoreError).

    Refuses a database that already holds rows unless `replace` (which deletes them in the same
    transaction), and a backup of another schema revision.
    """
    try:
        archive = tarfile.open(source, mode="r:gz")  # noqa: SIM115 (closed by the with-block below)
    except READ_ERRORS as error:
        raise RestoreError(f"Cannot read {source}: {error}") from None
    with archive:
        try:
            members = archive.getmembers()  # reads to the end: a truncated archive fails here
        except READ_ERRORS as error:
            raise RestoreError(f"{source} is damaged or incomplete ({error}); nothing was changed.") from None
        manifest = read_manifest(archive, members)
        check_revision(manifest)
        plan = check_members(members, manifest)
        if not replace:
            refuse_if_not_empty()
        staged, key = storage.new_store(), _staged_key()
        try:
            report = Report(revision=manifest["revision"], files=len(plan["files"]),
                            bytes=sum(m.size for m in plan["files"].values()))
            _stage(archive, plan, staged, key)
            report.rows = _load_rows(archive, manifest, replace)
        except BaseException:
            storage.drop_store(staged)
            key.unlink(missing_ok=True)
            raise
    _move_in(staged, key)
    return report


def read_manifest(archive: tarfile.TarFile, members: list[tarfile.TarInfo]) -> dict:
    """manifest.json, checked: {"format": 1, "revision": str, "rows": {table: count ≥ 0}, "files": count ≥ 0}."""
    found = [m for m in members if m.name == "manifest.json"]
    if len(found) != 1 or not found[0].isreg() or found[0].size > MAX_MANIFEST_BYTES:
        raise RestoreError("This is not a Bridge backup: it has no readable manifest.json.")
    try:
        manifest = json.loads(archive.extractfile(found[0]).read())
    except (*READ_ERRORS, ValueError):
        raise RestoreError("This is not a Bridge backup: it has no readable manifest.json.") from None
    if not isinstance(manifest, dict):
        raise RestoreError("manifest.json is not a JSON object.")
    if manifest.get("format") != FORMAT:
        raise RestoreError(f"This backup's format ({manifest.get('format')}) is not one this Bridge reads ({FORMAT}).")
    rows, files = manifest.get("rows"), manifest.get("files")
    if not isinstance(manifest.get("revision"), str):
        raise RestoreError("manifest.json has no schema revision.")
    if not isinstance(rows, dict) or not all(isinstance(k, str) and _count(v) for k, v in rows.items()):
        raise RestoreError("manifest.json has no row counts (\"rows\": {table: count}).")
    if not _count(files):
        raise RestoreError("manifest.json has no file count (\"files\").")
    return manifest


def _count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def check_revision(manifest: dict) -> None:
    from alembic.migration import MigrationContext

    with db.engine.connect() as connection:
        here = MigrationContext.configure(connection).get_current_revision() or ""
    if manifest["revision"] != here:
        raise RestoreError(f"The backup is at schema revision {manifest['revision'] or 'none'}, this database at "
                           f"{here or 'none'}. Run `flask db upgrade` (or use the Bridge version that made the "
                           "backup) so that both match.")


def check_members(members: list[tarfile.TarInfo], manifest: dict) -> dict:
    """Every member accounted for; returns {"tables": {name: member}, "files": {relative path: member},
    "settings": {name: member}}."""
    known = {t.name for t in tables()}
    unknown = sorted(set(manifest["rows"]) - known)
    if unknown:
        raise RestoreError(f"The backup has tables this Bridge does not know: {', '.join(unknown)}.")
    plan: dict[str, dict] = {"tables": {}, "files": {}, "settings": {}}
    seen = set()
    for member in members:
        name = member.name
        if name in seen:
            raise RestoreError(f"The backup holds {name!r} twice.")
        seen.add(name)
        if name == "manifest.json":
            continue
        if not member.isreg():
            raise RestoreError(f"The backup member {name!r} is not a regular file (a link, a device or a directory).")
        if name.startswith("database/") and name.endswith(".jsonl") and name[9:-6] in manifest["rows"]:
            plan["tables"][name[9:-6]] = member
        elif name.startswith("files/"):
            plan["files"][_plain_path(name[6:], name)] = member
        elif name in SETTINGS:
            if member.size > SETTINGS[name]:
                raise RestoreError(f"The backup member {name} is too large ({member.size} bytes).")
            plan["settings"][name] = member
        else:
            raise RestoreError(f"The backup holds a member a Bridge backup never has: {name!r}.")
    missing = sorted(set(manifest["rows"]) - set(plan["tables"]))
    if missing:
        raise RestoreError(f"The backup lacks the rows of {', '.join(missing)} that its manifest lists.")
    if len(plan["files"]) != manifest["files"]:
        raise RestoreError(f"The backup holds {len(plan['files'])} files, its manifest says {manifest['files']}.")
    return plan


def _plain_path(relative: str, name: str) -> str:
    """A relative path of plain names inside the file store, or RestoreError."""
    parts = PurePosixPath(relative).parts
    if (not parts or relative.startswith("/") or "\\" in relative or "\x00" in relative
            or any(p in ("", ".", "..") for p in relative.split("/"))):
        raise RestoreError(f"The backup member {name!r} points outside the file store.")
    return "/".join(parts)


def refuse_if_not_empty() -> None:
    with db.engine.connect() as connection:
        present = _rows_present(connection)
    if present:
        raise RestoreError(f"This database is not empty ({present} rows). Restore into a new database, or pass "
                           "--replace to delete what is there.")


def _rows_present(connection: sa.Connection) -> int:
    return sum(connection.scalar(sa.select(sa.func.count()).select_from(t)) for t in tables())


def _staged_key() -> Path:
    """Where the backup's secret key waits for the commit: beside the key it replaces (one file system)."""
    return current_app.config["DATA_DIR"] / f".secret_key-restore-{secrets.token_hex(6)}"


def _stage(archive: tarfile.TarFile, plan: dict, staged: Path, key: Path) -> None:
    """Write the files into the new store `staged` and the secret key to `key`; nothing else is touched."""
    needed = sum(m.size for m in plan["files"].values())
    if needed > shutil.disk_usage(staged).free:
        raise RestoreError(f"The files need {needed / 1e6:.0f} MB; the disk holding the file store has less free.")
    for relative, member in plan["files"].items():
        target = staged / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        _copy_member(archive, member, target)
    member = plan["settings"].get("settings/secret_key")
    if member is not None and not os.environ.get("BRIDGE_SECRET_KEY"):  # a key set by the environment wins
        _copy_member(archive, member, key, mode=0o600)


def _copy_member(archive: tarfile.TarFile, member: tarfile.TarInfo, target: Path, mode: int = 0o644) -> None:
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(archive.extractfile(member), out)
            written = out.tell()
    except READ_ERRORS as error:
        raise RestoreError(f"The backup member {member.name!r} cannot be written ({error}); nothing was changed.") \
            from None
    if written != member.size:
        raise RestoreError(f"The backup member {member.name!r} is incomplete; nothing was changed.")


def _load_rows(archive: tarfile.TarFile, manifest: dict, replace: bool) -> dict[str, int]:
    """Every table's rows in one transaction, counts checked against the manifest; rolled back on any error."""
    loaded = {}
    try:
        with db.engine.begin() as connection:
            present = _rows_present(connection)
            if present and not replace:
                raise RestoreError(f"This database is not empty ({present} rows). Restore into a new database, "
                                   "or pass --replace to delete what is there.")
            for table in reversed(tables()):
                connection.execute(table.delete())
            for table in tables():
                if table.name not in manifest["rows"]:
                    continue
                loaded[table.name] = _load_table(connection, table, archive)
                if loaded[table.name] != manifest["rows"][table.name]:
                    raise RestoreError(f"database/{table.name}.jsonl holds {loaded[table.name]} rows, the manifest "
                                       f"says {manifest['rows'][table.name]}; nothing was changed.")
            _reset_sequences(connection)
    except RestoreError:
        raise
    except (*READ_ERRORS, ValueError, TypeError, KeyError, sa.exc.SQLAlchemyError) as error:
        reason = " ".join(str(getattr(error, "orig", None) or error).split())[:300]  # the driver's words, no SQL
        raise RestoreError(f"The backup's rows could not be loaded, nothing was changed: {reason}") from None
    return loaded


def _load_table(connection: sa.Connection, table: sa.Table, archive: tarfile.TarFile) -> int:
    member = archive.extractfile(f"database/{table.name}.jsonl")
    decoders = {c.name: d for c in table.columns if (d := _decoder(c))}
    batch, count = [], 0
    for line in member:
        row = json.loads(line)
        if not isinstance(row, dict):
            raise ValueError(f"a line of database/{table.name}.jsonl is not a JSON object")
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


def _decoder(column: sa.Column):
    kind = column.type
    if isinstance(kind, sa.DateTime):
        return lambda v: None if v is None else datetime.fromisoformat(v)
    if isinstance(kind, sa.Date):
        return lambda v: None if v is None else date.fromisoformat(v)
    return None


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


def _move_in(staged: Path, key: Path) -> None:
    """After the commit: swap the new store in for the old (renames), then the key (one)."""
    storage.replace_store(staged)
    if key.exists():
        key.replace(current_app.config["DATA_DIR"] / "secret_key")
