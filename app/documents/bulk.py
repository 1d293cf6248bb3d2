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
from dataclasses import dataclass

from app import jobs
from app.documents.authoring import Field, account_field, fields_of
from app.documents.generate import PREFILL, DocumentError, clean_values, generate, made_by_job, prefilled, refusal
from app.extensions import db
from app.files import pdf
from app.files.csv_uploads import CsvKind, Upload, normalised
from app.models import Asset, GeneratedDocument, Job

MAX_BULK_ROWS = 500
MAX_CSV_BYTES = 2 * 1024 * 1024


@dataclass
class RowResult:
    line: int
    account: str
    document: GeneratedDocument | None = None
    error: str = ""


CUSTOMER_COLUMNS = ("account", "accountname", "customer", "company", "companyname", "client", "organisation",
                    "organization", "prospect")


def sample_csv(fields: list[Field]) -> str:
    """A CSV to start from: a column per field a manager fills (not images, not the rep's own name
    and email), headed by the field's name (matched automatically), and one example row of the
    template's examples."""
    columns = [f for f in fields if f.type != "image" and f.name not in PREFILL]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([f.name for f in columns])
    writer.writerow([f.default or (f.choices[0] if f.choices else "") for f in columns])
    return out.getvalue()


def auto_mapping(fields: list[Field], columns: list[str]) -> dict[str, str]:
    """Field name → the CSV column whose name matches it (or its label); then a column that names
    the start of one field only ("Contact" for "Contact name"); a column named like an account
    (account, company, customer, client, …) goes to the customer field when nothing else matches it."""
    by_name = {normalised(c): c for c in columns}
    mapping = {}
    for f in fields:
        column = by_name.get(normalised(f.name)) or by_name.get(normalised(f.label))
        if column:
            mapping[f.name] = column
    customer = account_field(fields)
    if customer is not None and customer.name not in mapping:
        column = next((by_name[c] for c in CUSTOMER_COLUMNS if c in by_name), None)
        if column is not None and column not in mapping.values():
            mapping[customer.name] = column
    for key, column in by_name.items():
        if column in mapping.values() or len(key) < 4:
            continue
        starts = [f for f in fields if f.name not in mapping and f.type != "image"
                  and (normalised(f.label).startswith(key) or normalised(f.name).startswith(key))]
        if len(starts) == 1:
            mapping[starts[0].name] = column
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


def start(user, asset: Asset, upload: Upload, mapping: dict[str, str]) -> Job:
    """Check the mapping at once (the manager fixes it on the page), then make the documents in a job:
    500 rows take over a minute, longer than a request may."""
    if reason := refusal(asset):
        raise DocumentError(reason)
    mapping = check_mapping(fields_of(asset.template), upload.columns, mapping)
    count = len(upload.rows)
    return jobs.enqueue(BULK_JOB, user, f"{count} PDF{'s' if count != 1 else ''} of {asset.title}"[:200],
                        {"asset": asset.id, "upload": upload.token, "mapping": mapping}, total=len(upload.rows))


BULK_JOB = "bulk_customize"


@jobs.task(BULK_JOB)
def run_bulk(run: jobs.Run) -> dict:
    """The job `start` queued: a document per row, the rows an earlier attempt made found again."""
    asset = db.session.get(Asset, run.payload["asset"])
    upload = stashed(run.user, run.payload["upload"]) if run.user is not None else None
    if asset is None or asset.template is None or upload is None:
        raise jobs.JobError("The template or the uploaded CSV is gone; upload the CSV again.")
    try:
        results = generate_many(run.user, asset, upload, run.payload["mapping"], run)
    except DocumentError as exc:
        raise jobs.JobError(str(exc)) from None
    made = [r.document.id for r in results if r.document]
    failed = len(results) - len(made)
    return {"summary": f"{len(made)} document{'s' if len(made) != 1 else ''} made"
                       + (f"; {failed} row{'s' if failed != 1 else ''} skipped." if failed else "."),
            "documents": made,
            "rows": [{"line": r.line, "account": r.account, "document": r.document.id if r.document else None,
                      "pages": r.document.page_count if r.document else 0, "error": r.error} for r in results]}


def generate_many(user, asset: Asset, upload: Upload, mapping: dict[str, str],
                  run: jobs.Run | None = None) -> list[RowResult]:
    """One document per row from its own values; a bad row is reported and the others are still made.
    In a job (`run`), progress is reported after each row and a row an earlier attempt made is reused."""
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
        key = run.key(line) if run is not None else None
        try:
            values = clean_values(fields, given, kept=kept)
            result.document = (key and made_by_job(key)) or generate(user, asset, values, result.account,
                                                                      bulk=True, job_key=key)
        except (DocumentError, pdf.RenderError) as exc:
            result.error = str(exc)
        results.append(result)
        if run is not None:
            run.progress(len(results), len(upload.rows), f"Line {line}: {result.account or '—'}")
    UPLOADS.forget(user, upload.token)
    return results


UPLOADS = CsvKind("bulk", MAX_BULK_ROWS, MAX_CSV_BYTES, "accounts", DocumentError)
read_csv, stash, stashed = UPLOADS.read, UPLOADS.stash, UPLOADS.stashed
