"""Customizable assets: marketers' templates, reps' field values, the PDFs made from them.

Templates are Jinja run in a SandboxedEnvironment with autoescape, fed only plain strings; the
HTML goes to WeasyPrint through `pdf.render_pdf_bounded` (no fetching beyond static files and
data: URIs, a time and memory limit per render).
"""
from __future__ import annotations

import base64
import csv
import functools
import io
import json
import re
import zipfile
from dataclasses import dataclass
from datetime import date

from flask import current_app
from jinja2 import StrictUndefined, TemplateError as JinjaTemplateError, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from PIL import Image, UnidentifiedImageError
from sqlalchemy import select

from . import pdf, storage
from .database import transaction
from .extensions import db
from .models import Asset, DocumentTemplate, GeneratedDocument

FIELD_TYPES = {"text": "Short text", "long_text": "Long text", "choice": "Choice", "image": "Image",
               "date": "Date"}
MAX_LENGTH = {"text": 200, "long_text": 5000, "choice": 200, "date": 10}
MAX_IMAGE_BYTES = 1024 * 1024
MAX_IMAGE_PIXELS = 4000 * 4000
BASE_STYLESHEET = "pdf/customize-base.css"
PREFILL = {"rep_name": "name", "rep_email": "email"}  # fields filled from the user's profile
NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


class TemplateProblem(ValueError):
    """A marketer-facing reason why a template cannot be saved (with the line when known)."""


class ValueProblem(ValueError):
    """A rep-facing reason why the values cannot be used."""


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    type: str = "text"
    default: str = ""
    choices: tuple[str, ...] = ()
    required: bool = False

    def as_dict(self) -> dict:
        return {"name": self.name, "label": self.label, "type": self.type, "default": self.default,
                "choices": list(self.choices), "required": self.required}


def parse_fields(declared: list) -> list[Field]:
    """Check a template's declared fields: names, types, choices and defaults."""
    if not isinstance(declared, list):
        raise TemplateProblem("Fields must be a JSON list of objects.")
    fields, seen = [], set()
    for n, item in enumerate(declared, start=1):
        if not isinstance(item, dict):
            raise TemplateProblem(f"Field {n}: must be an object with name, label and type.")
        name, kind = str(item.get("name", "")), str(item.get("type", "text"))
        if not NAME.fullmatch(name) or name in seen:
            raise TemplateProblem(f"Field {n}: name {name!r} must be unique, lower case, letters, digits and _.")
        if kind not in FIELD_TYPES:
            raise TemplateProblem(f"Field {name}: type {kind!r} is not one of {', '.join(FIELD_TYPES)}.")
        choices = tuple(str(c) for c in item.get("choices", []) or [])
        if kind == "choice" and not choices:
            raise TemplateProblem(f"Field {name}: a choice needs a list of choices.")
        default = str(item.get("default", "") or "")
        if kind == "choice" and default and default not in choices:
            raise TemplateProblem(f"Field {name}: default {default!r} is not one of its choices.")
        seen.add(name)
        fields.append(Field(name, str(item.get("label") or name.replace("_", " ").capitalize()), kind,
                            default, choices, bool(item.get("required", False))))
    return fields


def parse_fields_json(text: str) -> list[Field]:
    try:
        declared = json.loads(text or "[]")
    except json.JSONDecodeError as exc:
        raise TemplateProblem(f"Fields, line {exc.lineno}: {exc.msg}.") from exc
    return parse_fields(declared)


def fields_json(template: DocumentTemplate | None) -> str:
    example = [{"name": "customer_name", "label": "Customer name", "type": "text", "default": "Acme Health",
                "required": True}]
    return json.dumps(template.fields if template else example, indent=2, ensure_ascii=False)


def fields_of(template: DocumentTemplate) -> list[Field]:
    return parse_fields(template.fields)


def _environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(autoescape=True, undefined=StrictUndefined)


def check_syntax(html: str) -> None:
    """Parse only: compiling folds constant expressions ({{ 'x' * 2000000000 }} allocates 2 GB),
    so compiling and rendering happen in the limited render process, never in the worker."""
    try:
        _environment().parse(html)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(f"Line {exc.lineno}: {exc.message}") from exc


def render_html(html: str, values: dict[str, str]) -> str:
    """The template's HTML with `values` (plain strings, escaped) inside a document.

    Runs inside the render process (see `render_document`)."""
    try:
        body = _environment().from_string(html).render(**values, today=date.today().isoformat())
    except TemplateSyntaxError as exc:
        raise TemplateProblem(f"Line {exc.lineno}: {exc.message}") from exc
    except JinjaTemplateError as exc:
        line = getattr(exc, "lineno", None)
        raise TemplateProblem(f"{f'Line {line}: ' if line else ''}{exc}") from exc
    return f'<!doctype html><html lang="en"><head><meta charset="utf-8"></head><body>{body}</body></html>'


def defaults(fields: list[Field]) -> dict[str, str]:
    return {f.name: f.default for f in fields}


def render_document(template: DocumentTemplate, values: dict[str, str]) -> bytes:
    """The PDF of a template with these values, rendered within the configured limits."""
    check_syntax(template.html)
    return current_app.extensions["pdf_renderer"].render(
        functools.partial(render_html, template.html, values), (BASE_STYLESHEET,), template.css,
        timeout=current_app.config["RENDER_TIMEOUT_S"])


def first_page_png(pdf_bytes: bytes, width: int = 900) -> bytes:
    """Page 1 as a PNG, for previews."""
    return pdf.page_png(pdf_bytes, 0, width)


def trial_render(html: str, css: str, fields: list[Field]) -> bytes:
    """Render a template draft with its default values; any problem is a TemplateProblem."""
    if not html.strip():
        raise TemplateProblem("The template's HTML is empty.")
    probe = DocumentTemplate(html=html, css=css, fields=[f.as_dict() for f in fields])
    try:
        return render_document(probe, defaults(fields))
    except pdf.RenderError as exc:  # includes the template's own errors, raised in the renderer
        raise TemplateProblem(str(exc)) from exc


def preview_data_uri(html: str, css: str, fields: list[Field]) -> str:
    png = first_page_png(trial_render(html, css, fields))
    return "data:image/png;base64," + base64.b64encode(png).decode()


def save_template(asset: Asset, html: str, css: str, fields: list[Field], author) -> DocumentTemplate:
    """Check the template compiles and renders with its defaults, then store it as a new version."""
    trial_render(html, css, fields)
    with transaction():
        template = asset.template
        if template is None:
            template = DocumentTemplate(asset_id=asset.id, version=0)
            db.session.add(template)
        template.html, template.css = html, css
        template.fields = [f.as_dict() for f in fields]
        template.version += 1
        template.updated_by_id = author.id
    db.session.refresh(asset)
    return template


def clean_values(fields: list[Field], given: dict, files: dict | None = None,
                 fallback: dict[str, str] | None = None) -> dict[str, str]:
    """The values for each field as plain strings: checked, trimmed, images as data: URIs.

    A field not given takes its `fallback` value (the prefilled one), else its default.
    """
    fallback = fallback or defaults(fields)
    values = {}
    for f in fields:
        if f.type == "image":
            upload = (files or {}).get(f.name)
            kept = str(given.get(f.name) or fallback.get(f.name) or "")
            values[f.name] = image_data_uri(upload) if upload else reencoded_image(kept, f.label) if kept else ""
            continue
        value = str(given.get(f.name, fallback.get(f.name, "")) or "").strip()
        if len(value) > MAX_LENGTH[f.type]:
            raise ValueProblem(f"{f.label}: at most {MAX_LENGTH[f.type]} characters.")
        if f.type == "choice" and value and value not in f.choices:
            raise ValueProblem(f"{f.label}: choose one of {', '.join(f.choices)}.")
        if f.type == "date" and value:
            try:
                date.fromisoformat(value)
            except ValueError:
                raise ValueProblem(f"{f.label}: a date like 2026-11-24.") from None
        if f.required and not value:
            raise ValueProblem(f"{f.label} is required.")
        values[f.name] = value
    return values


def image_data_uri(upload) -> str:
    """A small PNG or JPEG upload as a data: URI (nothing is written to disk or fetched later)."""
    data = upload.read(MAX_IMAGE_BYTES + 1)
    if len(data) > MAX_IMAGE_BYTES:
        raise ValueProblem("The image is larger than 1 MB.")
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise ValueProblem("The image has too many pixels (4000 × 4000 at most).")
    except (UnidentifiedImageError, OSError):
        raise ValueProblem("The image is not a PNG or JPEG.") from None
    if kind not in ("PNG", "JPEG"):
        raise ValueProblem("The image is not a PNG or JPEG.")
    return f"data:image/{kind.lower()};base64,{base64.b64encode(data).decode()}"


def reencoded_image(data_uri: str, label: str) -> str:
    """An image carried over from a preview, checked again like a fresh upload."""
    header, _, payload = data_uri.partition(",")
    if not header.startswith("data:image/") or not header.endswith(";base64"):
        raise ValueProblem(f"{label}: upload a PNG or JPEG image.")
    try:
        return image_data_uri(io.BytesIO(base64.b64decode(payload, validate=True)))
    except ValueError as exc:
        raise ValueProblem(f"{label}: {exc}") from None


def prefilled(fields: list[Field], user, start_from: GeneratedDocument | None = None) -> dict[str, str]:
    """Defaults, then the user's own name and email, then a previous document's values."""
    values = defaults(fields)
    for name, attribute in PREFILL.items():
        if name in values:
            values[name] = getattr(user, attribute)
    if start_from is not None:
        values.update({k: v for k, v in start_from.values.items() if k in values})
    return values


def generate(user, asset: Asset, values: dict[str, str], account: str) -> GeneratedDocument:
    """Render and keep a customized PDF for `account`."""
    account = account.strip()[:120]
    if not account:
        raise ValueProblem("Say which account this document is for.")
    template = asset.template
    body = render_document(template, values)
    stored_name = storage.store_bytes(body, "pdf")
    try:
        with transaction():
            document = GeneratedDocument(
                user_id=user.id, asset_id=asset.id, template_version=template.version, account=account,
                title=f"{asset.title} — {account}"[:240], values=values, stored_name=stored_name,
                page_count=pdf.page_count(body), size_bytes=len(body))
            db.session.add(document)
    except BaseException:
        storage.discard(stored_name)
        raise
    return document


def documents_of(user, limit: int = 200) -> list[GeneratedDocument]:
    return list(db.session.scalars(
        select(GeneratedDocument).where(GeneratedDocument.user_id == user.id)
        .order_by(GeneratedDocument.created_at.desc(), GeneratedDocument.id.desc()).limit(limit)))


def document_of(user, document_id: int) -> GeneratedDocument | None:
    """The user's own document (others' documents do not exist for them)."""
    document = db.session.get(GeneratedDocument, document_id)
    return document if document is not None and document.user_id == user.id else None


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
        raise ValueProblem("The CSV is not UTF-8 text; export it again as “CSV UTF-8”.") from None
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "account" not in [f.strip().lower() for f in reader.fieldnames]:
        raise ValueProblem("The CSV needs a header row with an “account” column.")
    rows = [{(k or "").strip().lower(): (v or "") for k, v in row.items()} for row in reader]
    if len(rows) > MAX_BULK_ROWS:
        raise ValueProblem(f"At most {MAX_BULK_ROWS} accounts at a time ({len(rows)} given).")
    if not rows:
        raise ValueProblem("The CSV has no accounts.")
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
            result.document = generate(user, asset, values, result.account)
        except (ValueProblem, pdf.RenderError) as exc:
            result.error = str(exc)
        results.append(result)
    return results


def zip_of(documents: list[GeneratedDocument]) -> bytes:
    """The documents' PDFs in one ZIP, named after their accounts."""
    out = io.BytesIO()
    names: set[str] = set()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for document in documents:
            stem = re.sub(r"[^\w .-]+", "-", document.title).strip() or f"document-{document.id}"
            name = f"{stem}.pdf" if f"{stem}.pdf" not in names else f"{stem} ({document.id}).pdf"
            names.add(name)
            archive.write(storage.path_of(document.stored_name), name)
    return out.getvalue()
