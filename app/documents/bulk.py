"""Bulk customizing (managers): a CSV of accounts in, one document per row out."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from app.documents.authoring import fields_of
from app.documents.generate import DocumentError, clean_values, generate, prefilled
from app.files import pdf
from app.models import Asset, GeneratedDocument

MAX_BULK_ROWS = 500
MAX_CSV_BYTES = 2 * 1024 * 1024


@dataclass
class RowResult:
    line: int
    account: str
    document: GeneratedDocument | None = None
    error: str = ""


def read_accounts_csv(data: bytes) -> list[dict[str, str]]:
    """Rows of an accounts CSV (an `account` column, then any field names); a clear error if unusable."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DocumentError("The CSV is not UTF-8 text; export it again as “CSV UTF-8”.") from None
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "account" not in [f.strip().lower() for f in reader.fieldnames]:
        raise DocumentError("The CSV needs a header row with an “account” column.")
    rows = [{(k or "").strip().lower(): (v or "") for k, v in row.items()} for row in reader]
    if len(rows) > MAX_BULK_ROWS:
        raise DocumentError(f"At most {MAX_BULK_ROWS} accounts at a time ({len(rows)} given).")
    if not rows:
        raise DocumentError("The CSV has no accounts.")
    return rows


def generate_many(user, asset: Asset, rows: list[dict[str, str]]) -> list[RowResult]:
    """One document per row; a bad row is reported and the others are still made."""
    fields = fields_of(asset.template)
    base = prefilled(fields, user)
    results = []
    for line, row in enumerate(rows, start=2):  # line 1 is the header
        result = RowResult(line, row.get("account", "").strip())
        try:
            values = clean_values(fields, {k: v for k, v in row.items() if v != ""}, fallback=base)
            result.document = generate(user, asset, values, result.account, bulk=True)
        except (DocumentError, pdf.RenderError) as exc:
            result.error = str(exc)
        results.append(result)
    return results
