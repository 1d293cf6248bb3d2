"""Loading a folder of collateral described by a manifest.csv: a share drive's onboarding path."""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import select

from app.extensions import db
from app.files import ingest
from app.files.ingest import IngestError
from app.library import assets, taxonomy
from app.library.assets import AssetData, AssetError
from app.models import AUDIENCES, Asset, AssetKind, AssetStatus, default_audience

MANIFEST = "manifest.csv"
# Besides these, a column per dimension, named like it ("industry", "company_size" or "Company size"),
# lists that dimension's terms; the older `segments` column lists terms of any dimension.
REQUIRED_COLUMNS = {"file", "title", "kind", "stages", "product", "tags", "description"}
LEGACY_TERMS_COLUMN = "segments"
TEXT_SUFFIXES = {".md", ".markdown", ".txt"}
KIND_ALIASES = {
    "one pager": "one_pager", "onepager": "one_pager", "deck": "slide_deck", "slides": "slide_deck",
    "messaging / talk track": "messaging", "talk track": "messaging", "messaging": "messaging",
    "email": "email_template", "video": "video_link", "video link": "video_link",
}
# The optional `audience` column: empty means by kind (internal for messaging, battlecards, emails).
AUDIENCE_ALIASES = {"customer": "customer", "customer-facing": "customer", "customer facing": "customer",
                    "external": "customer", "prospect": "customer", "internal": "internal",
                    "internal only": "internal", "internal-only": "internal"}


@dataclass
class ImportReport:
    """What an import did, row by row."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[tuple[int, str, str]] = field(default_factory=list)


class RowError(ValueError):
    """Why one manifest row could not be loaded."""


def split_list(raw: str) -> list[str]:
    """Manifest lists are separated by ';' or '|'."""
    return [part.strip() for part in raw.replace("|", ";").split(";") if part.strip()]


def parse_kind(raw: str) -> str:
    key = raw.strip().lower().replace("-", " ").replace("_", " ")
    kind = KIND_ALIASES.get(key, key.replace(" ", "_"))
    if kind not in {k.value for k in AssetKind}:
        choices = ", ".join(k.label for k in AssetKind)
        raise RowError(f"unknown kind {raw!r} (one of: {choices})")
    return kind


def parse_audience(raw: str, kind: str) -> str:
    key = raw.strip().lower()
    if not key:
        return default_audience(kind)
    if key not in AUDIENCE_ALIASES:
        raise RowError(f"unknown audience {raw!r} (one of: {', '.join(AUDIENCES)}, or empty for the kind's default)")
    return AUDIENCE_ALIASES[key]


def _term_ids(row: dict, dimensions) -> list[int]:
    """Terms from each dimension's column, and from the older `segments` column (any dimension)."""
    columns = {taxonomy.slug(key): value for key, value in row.items() if key}
    ids, unknown = [], []
    for dimension in dimensions:
        found, missing = taxonomy.terms_by_name(split_list(columns.get(taxonomy.slug(dimension.name)) or ""),
                                                dimension)
        ids += [t.id for t in found]
        unknown += [f"{dimension.name} {name!r}" for name in missing]
    found, missing = taxonomy.terms_by_name(split_list(row.get(LEGACY_TERMS_COLUMN) or ""))
    ids += [t.id for t in found]
    unknown += [repr(name) for name in missing]
    if unknown:
        raise RowError(f"unknown term(s) {', '.join(unknown)}; add them under Admin → Taxonomy first")
    return list(dict.fromkeys(ids))


def _stage_ids(raw: str) -> list[int]:
    found, unknown = taxonomy.stages_by_name(split_list(raw))
    if unknown:
        raise RowError(f"unknown stage(s) {', '.join(map(repr, unknown))}; add them under Admin → Taxonomy first")
    return [s.id for s in found]


def row_data(row: dict, dimensions=None) -> AssetData:
    """Validate a manifest row's metadata into AssetData."""
    if not (row.get("title") or "").strip():
        raise RowError("title is empty")
    status = (row.get("status") or AssetStatus.PUBLISHED.value).strip().lower()
    if status not in {s.value for s in AssetStatus}:
        raise RowError(f"unknown status {status!r}")
    try:
        expires = date.fromisoformat(row["expires_on"].strip()) if (row.get("expires_on") or "").strip() else None
    except ValueError as exc:
        raise RowError(f"expires_on {row['expires_on']!r} is not a date like 2027-03-31") from exc
    kind = parse_kind(row.get("kind") or "")
    return AssetData(
        title=row["title"], kind=kind, audience=parse_audience(row.get("audience") or "", kind),
        description=row.get("description") or "", product=row.get("product") or "",
        tags=assets.parse_tags((row.get("tags") or "").replace(";", ",")),
        term_ids=_term_ids(row, taxonomy.dimensions() if dimensions is None else dimensions),
        stage_ids=_stage_ids(row.get("stages") or ""), status=status, expires_on=expires,
    )


def import_row(folder: Path, row: dict, owner, dimensions=None) -> str:
    """Create or update the asset for one row; returns 'created', 'updated' or 'unchanged'."""
    ref = (row.get("file") or "").strip()
    if not ref:
        raise RowError("file is empty")
    data = row_data(row, dimensions)
    existing = db.session.scalar(select(Asset).where(Asset.source_key == ref))
    upload = None
    if ref.startswith(("https://", "http://")):
        data.url = ref
    else:
        path = (folder / ref).resolve()
        if not path.is_relative_to(folder.resolve()) or not path.is_file():
            raise RowError(f"file {ref!r} was not found in {folder}")
        if path.suffix.lower() in TEXT_SUFFIXES:
            data.body = path.read_text(encoding="utf-8")
        else:
            current = existing.current_version if existing else None
            if current is None or current.sha256 != ingest.sha256_of(path):
                upload = (path, path.name)
    if existing is not None and upload is None and _same(existing, data):
        return "unchanged"
    assets.save_asset(data, owner, asset=existing, upload=upload, source_key=ref)
    return "created" if existing is None else "updated"


def _same(asset: Asset, data: AssetData) -> bool:
    return (
        asset.title == data.title.strip() and asset.kind == data.kind
        and asset.description == data.description.strip() and asset.product == data.product.strip()
        and list(asset.tags) == data.tags and asset.status == data.status
        and asset.expires_on == data.expires_on and asset.body == data.body and asset.url == data.url
        and asset.audience == data.audience
        and sorted(t.id for t in asset.terms) == sorted(data.term_ids)
        and sorted(s.id for s in asset.stages) == sorted(data.stage_ids)
    )


def import_collateral(folder: Path, owner) -> ImportReport:
    """Load every row of folder/manifest.csv; a bad row is reported and the others still load."""
    report = ImportReport()
    manifest = folder / MANIFEST
    if not manifest.is_file():
        report.errors.append((0, MANIFEST, f"no {MANIFEST} in {folder}"))
        return report
    with manifest.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = REQUIRED_COLUMNS - set(reader.fieldnames or [])
        if missing:
            report.errors.append((1, MANIFEST, f"missing columns: {', '.join(sorted(missing))}"))
            return report
        dimensions = taxonomy.dimensions()
        for line, row in enumerate(reader, start=2):
            try:
                outcome = import_row(folder, row, owner, dimensions)
            except (RowError, AssetError, IngestError) as exc:
                db.session.rollback()
                report.errors.append((line, row.get("file") or "", str(exc)))
                continue
            getattr(report, outcome).append(row["file"])
    return report
