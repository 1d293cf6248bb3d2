"""Customized documents, the rep's side: field values checked, PDFs made and kept, and zipped."""
from __future__ import annotations

import base64
import io
import re
import zipfile
from datetime import date

from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import usage
from app.database import transaction
from app.documents.authoring import Field, account_field, fields_of, render_document
from app.extensions import db
from app.files import pages, pdf, storage
from app.library import prospects
from app.models import Asset, GeneratedDocument

MAX_LENGTH = {"text": 200, "long_text": 5000, "number": 30, "choice": 200, "date": 10}
# A number as people write one in a document: 12400, 12,400, 7.5 (not negative, not words).
NUMBER = re.compile(r"(\d{1,3}(,\d{3})+|\d+)(\.\d+)?")
# The longest word a value may hold: a longer run without spaces cannot wrap, and pushes a
# template's table or columns past the page's edge (values beside it then fall off the page).
LONGEST_WORD = {"text": 32, "long_text": 60}
MAX_IMAGE_BYTES = 1024 * 1024
MAX_IMAGE_PIXELS = 4000 * 4000
PREFILL = {"rep_name": "name", "rep_email": "email"}  # fields filled from the user's profile


class DocumentError(ValueError):
    """A rep-facing reason why the values cannot be used."""


def clean_values(fields: list[Field], given: dict, files: dict | None = None,
                 kept: dict[str, str] | None = None) -> dict[str, str]:
    """The values for each field as plain strings: checked, trimmed, images as data: URIs.

    A field not given keeps its `kept` value (the rep's own name and email, a previous document's
    values); a choice left empty takes its default option; an example is never a value. Required
    fields left empty are named, all at once.
    """
    kept = kept or {}
    values, missing = {}, []
    for f in fields:
        if f.type == "image":
            upload = (files or {}).get(f.name)
            carried = str(given.get(f.name) or kept.get(f.name) or "")
            values[f.name] = image_data_uri(upload) if upload else reencoded_image(carried, f.label) if carried else ""
            continue
        value = str(given.get(f.name, kept.get(f.name, "")) or "").strip()
        if f.type == "choice" and not value:
            value = f.default  # the option chosen at first, when none is
        if len(value) > MAX_LENGTH[f.type]:
            raise DocumentError(f"{f.label}: at most {MAX_LENGTH[f.type]} characters.")
        if f.type == "number" and value and not NUMBER.fullmatch(value):
            raise DocumentError(f"{f.label}: a number such as {f.default if NUMBER.fullmatch(f.default) else '12,400'}"
                                f" (not {value[:30]!r}).")
        longest = max(value.split(), key=len, default="")
        if len(longest) > LONGEST_WORD.get(f.type, 10**6):
            raise DocumentError(f"{f.label}: “{longest[:20]}…” is {len(longest)} characters without a space, "
                                f"too long to fit the page; shorten it or add spaces.")
        if f.type == "choice" and value and value not in f.choices:
            raise DocumentError(f"{f.label}: choose one of {', '.join(f.choices)}.")
        if f.type == "date" and value:
            try:
                date.fromisoformat(value)
            except ValueError:
                raise DocumentError(f"{f.label}: a date like 2026-11-24.") from None
        if f.required and not value:
            missing.append(f.label)
        values[f.name] = value
    if missing:
        raise DocumentError(missing_message(missing))
    return values


def missing_message(labels: list[str]) -> str:
    if len(labels) == 1:
        return f"{labels[0]} is required."
    return f"{', '.join(labels[:-1])} and {labels[-1]} are required."


def image_data_uri(upload) -> str:
    """A small PNG or JPEG upload as a data: URI (nothing is written to disk or fetched later)."""
    data = upload.read(MAX_IMAGE_BYTES + 1)
    if len(data) > MAX_IMAGE_BYTES:
        raise DocumentError("The image is larger than 1 MB.")
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise DocumentError("The image has too many pixels (4000 × 4000 at most).")
    except (UnidentifiedImageError, OSError):
        raise DocumentError("The image is not a PNG or JPEG.") from None
    if kind not in ("PNG", "JPEG"):
        raise DocumentError("The image is not a PNG or JPEG.")
    return f"data:image/{kind.lower()};base64,{base64.b64encode(data).decode()}"


def reencoded_image(data_uri: str, label: str) -> str:
    """An image carried over from a preview, checked again like a fresh upload."""
    header, _, payload = data_uri.partition(",")
    if not header.startswith("data:image/") or not header.endswith(";base64"):
        raise DocumentError(f"{label}: upload a PNG or JPEG image.")
    try:
        return image_data_uri(io.BytesIO(base64.b64decode(payload, validate=True)))
    except ValueError as exc:
        raise DocumentError(f"{label}: {exc}") from None


def prefilled(fields: list[Field], user, start_from: GeneratedDocument | None = None) -> dict[str, str]:
    """Real values to start from: the user's own name and email, then a previous document's values
    (never the template's examples)."""
    names = {f.name for f in fields}
    values = {name: getattr(user, attribute) for name, attribute in PREFILL.items() if name in names}
    if start_from is not None:
        values.update({k: v for k, v in start_from.values.items() if k in names})
    return values


def account_of(fields: list[Field], values: dict[str, str], account: str = "") -> str:
    """The account a document is for: the template's customer field, else the one given apart."""
    field = account_field(fields)
    return (values.get(field.name, "") if field is not None else account).strip()[:120]


def refusal(asset: Asset) -> str | None:
    """Why `asset` cannot be customized into a customer document, or None."""
    return prospects.refusal_for_prospects(asset, "customized into a customer document")


def preview(asset: Asset, values: dict[str, str], width: int = 800, max_pages: int = 6) -> list[pages.PageImage]:
    """The pages the rep would get with these values, as images: nothing is kept and nothing is logged."""
    if reason := refusal(asset):
        raise DocumentError(reason)
    return pages.pages_of_bytes(render_document(asset.template, values), width, max_pages, storage.incoming_dir())


def generate(user, asset: Asset, values: dict[str, str], account: str = "", *, bulk: bool = False,
             opportunity=None, job_key: str | None = None) -> GeneratedDocument:
    """Render and keep a customized PDF, filed under the template's customer field (or `account` when
    the template has none, or the deal's account), and log it (one of many when `bulk`; for the deal
    `opportunity`, one of the user's open deals, when given; `job_key` names it for the job making it)."""
    if reason := refusal(asset):
        raise DocumentError(reason)
    template = asset.template
    account = account_of(fields_of(template), values, account) or (opportunity.account.name if opportunity else "")
    if not account:
        raise DocumentError("Say which account this document is for.")
    body = render_document(template, values)
    stored_name = storage.store_bytes(body, "pdf")
    try:
        with transaction():
            document = GeneratedDocument(
                user_id=user.id, asset_id=asset.id, template_version=template.version, account=account,
                title=f"{asset.title} — {account}"[:240], values=values, stored_name=stored_name,
                page_count=pdf.page_count(body), size_bytes=len(body), job_key=job_key)
            db.session.add(document)
    except BaseException:
        storage.discard(stored_name)
        raise
    usage.log_event("customize", user=user, asset=asset, account=document.account, document_id=document.id,
                    template_version=document.template_version, bulk=bulk or None, opportunity=opportunity)
    return document


def made_by_job(job_key: str) -> GeneratedDocument | None:
    """The document an earlier attempt of a job made under `job_key`, if it got that far."""
    return db.session.scalar(select(GeneratedDocument).where(GeneratedDocument.job_key == job_key))


def documents_of(user, limit: int = 200) -> list[GeneratedDocument]:
    """The user's documents (customized ones and pitch kits), newest first."""
    return list(db.session.scalars(
        select(GeneratedDocument).where(GeneratedDocument.user_id == user.id)
        .options(selectinload(GeneratedDocument.asset).selectinload(Asset.template))
        .order_by(GeneratedDocument.created_at.desc(), GeneratedDocument.id.desc()).limit(limit)))


def own_document(user, document_id: int | None) -> GeneratedDocument | None:
    """The user's own document (others' documents do not exist for them)."""
    document = db.session.get(GeneratedDocument, document_id) if document_id else None
    return document if document is not None and document.user_id == user.id else None


def zip_of(documents: list[GeneratedDocument]) -> bytes:
    """The documents' PDFs in one ZIP, named after their accounts."""
    out = io.BytesIO()
    names: set[str] = set()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for document in documents:
            name = document.file_name
            name = name if name not in names else f"{name[:-4]} ({document.id}).pdf"
            names.add(name)
            archive.write(storage.path_of(document.stored_name), name)
    return out.getvalue()
