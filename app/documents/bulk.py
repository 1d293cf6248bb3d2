"""Bulk customizing (managers): a CSV of accounts in, one document per row out.

Two steps. The CSV is read and its columns matched to the template's fields by name (ignoring
case, spaces, underscores and hyphens; a field's label counts as its name, and a column named
`account` is the customer field); the manager confirms or changes the mapping. Then each row
becomes a document made from that row's own values: a row missing a required value is reported
and skipped, never filled from the template's examples. Between the steps the CSV waits in the
store's scratch space under a random name tied to the manager.
"""
from __future__ import annotations

import csv
import io
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from app.documents.authoring import Field, account_field, fields_of
from app.documents.generate import DocumentError, clean_values, generate, prefilled, refusal
from app.files import pdf, storage
from app.models import Asset, GeneratedDocument

MAX_BULK_ROWS = 500
MAX_CSV_BYTES = 2 * 1024 * 1024
UPLOAD_NAME = re.compile(r"[0-9a-f]{32}")
KEEP_UPLOADS_S = 24 * 3600


@dataclass
class RowResult:
    line: int
    account: str
    document: GeneratedDocument | None = None
    error: str = ""


@dataclass
class Upload:
    """A CSV waiting for its mapping to be confirmed."""

    token: str
    columns: list[str]
    rows: list[dict[str, str]]


def normalised(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name).casefold()


def read_csv(data: bytes) -> tuple[list[str], list[dict[str, str]]]:
    """The columns and rows of a CSV; a clear error if it cannot be used."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DocumentError("The CSV is not UTF-8 text; export it again as “CSV UTF-8”.") from None
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip() for c in reader.fieldnames or [] if c and c.strip()]
    if not columns:
        raise DocumentError("The CSV needs a header row naming its columns.")
    if len({normalised(c) for c in columns}) < len(columns):
        raise DocumentError("Two columns of the CSV have the same name.")
    rows = [{(k or "").strip(): (v or "").strip() for k, v in row.items() if k} for row in reader]
    rows = [row for row in rows if any(row.values())]
    if len(rows) > MAX_BULK_ROWS:
        raise DocumentError(f"At most {MAX_BULK_ROWS} accounts at a time ({len(rows)} given).")
    if not rows:
        raise DocumentError("The CSV has no accounts.")
    return columns, rows


def auto_mapping(fields: list[Field], columns: list[str]) -> dict[str, str]:
    """Field name → the CSV column whose name matches it (or its label); a column named `account`
    goes to the customer field when nothing else matches it."""
    by_name = {normalised(c): c for c in columns}
    mapping = {}
    for f in fields:
        column = by_name.get(normalised(f.name)) or by_name.get(normalised(f.label))
        if column:
            mapping[f.name] = column
    customer = account_field(fields)
    if customer is not None and customer.name not in mapping and "account" in by_name:
        mapping[customer.name] = by_name["account"]
    return mapping


def check_mapping(fields: list[Field], columns: list[str], mapping: dict[str, str]) -> dict[str, str]:
    """The mapping with unknown fields and columns refused; each required field needs a column."""
    names = {f.name for f in fields if f.type != "image"}
    mapping = {name: column for name, column in mapping.items() if column}
    if unknown := [n for n in mapping if n not in names] + [c for c in mapping.values() if c not in columns]:
        raise DocumentError(f"Unknown fields or columns in the mapping: {', '.join(map(str, unknown))}.")
    unmapped = [f.label for f in fields if f.required and f.type != "image" and f.name not in mapping]
    if unmapped:
        raise DocumentError(f"Choose a column for {', '.join(unmapped)}: "
                            f"{'it is' if len(unmapped) == 1 else 'they are'} required.")
    return mapping


def stash(user, data: bytes) -> Upload:
    """Read the CSV and keep it until the mapping is confirmed."""
    columns, rows = read_csv(data)
    _forget_old_uploads()
    token = secrets.token_hex(16)
    _path(user, token).write_bytes(data)
    return Upload(token, columns, rows)


def stashed(user, token: str) -> Upload | None:
    """The user's own waiting CSV, or None (unknown, expired or someone else's)."""
    if not UPLOAD_NAME.fullmatch(token or ""):
        return None
    path = _path(user, token)
    if not path.is_file():
        return None
    return Upload(token, *read_csv(path.read_bytes()))


def generate_many(user, asset: Asset, upload: Upload, mapping: dict[str, str]) -> list[RowResult]:
    """One document per row from its own values; a bad row is reported and the others are still made."""
    if reason := refusal(asset):
        raise DocumentError(reason)
    fields = fields_of(asset.template)
    mapping = check_mapping(fields, upload.columns, mapping)
    kept = prefilled(fields, user)  # the manager's own name and email, for rep_name and rep_email
    customer = account_field(fields)
    account_column = next((c for c in upload.columns if normalised(c) == "account"), "")
    results = []
    for line, row in enumerate(upload.rows, start=2):  # line 1 is the header
        given = {name: row.get(column, "") for name, column in mapping.items()}
        result = RowResult(line, given.get(customer.name, "") if customer else row.get(account_column, ""))
        try:
            values = clean_values(fields, given, kept=kept)
            result.document = generate(user, asset, values, result.account, bulk=True)
        except (DocumentError, pdf.RenderError) as exc:
            result.error = str(exc)
        results.append(result)
    _path(user, upload.token).unlink(missing_ok=True)
    return results


def _path(user, token: str) -> Path:
    return storage.incoming_dir() / f"bulk-{user.id}-{token}.csv"


def _forget_old_uploads() -> None:
    cutoff = time.time() - KEEP_UPLOADS_S
    for path in storage.incoming_dir().glob("bulk-*.csv"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except FileNotFoundError:
            pass
