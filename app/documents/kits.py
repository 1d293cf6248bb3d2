"""Pitch kits: several assets behind a customized cover and a table of contents, in one PDF.

Stored PDFs are merged page for page with pypdf (never re-rendered); other assets (decks,
documents, messaging, images, videos) get a summary page with a link back to Bridge; a file
that cannot be read gets a page saying so. Only the cover, the contents and the summary pages
are rendered, in the worker's limited render process.
"""
from __future__ import annotations

import base64
import io
from collections.abc import Callable
from dataclasses import dataclass

from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError

from app import usage
from app.database import transaction
from app.documents.generate import DocumentError
from app.extensions import db
from app.files import pdf, storage
from app.models import Asset, GeneratedDocument
from app.web.markup import render_markdown

MAX_ITEMS = 30
KIT_STYLESHEET = "pdf/kit.css"


@dataclass
class Part:
    asset: Asset
    pdf: bytes
    pages: int
    note: str = ""  # why the asset appears as a summary page

    @property
    def merged(self) -> bool:
        return not self.note


def _render(template: str, **context) -> bytes:
    return pdf.render_bounded(pdf.html_of(template, **context), (KIT_STYLESHEET,))


def _stored_pdf(asset: Asset) -> tuple[bytes | None, str]:
    """The asset's current PDF file if it can be merged, else (None, the reason)."""
    version = asset.current_version
    if version is None:
        return None, ""
    if version.file_type != "pdf":
        return None, f"{version.file_type.upper()} files are summarised here; open the original in Bridge."
    data = storage.path_of(version.stored_name).read_bytes()
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            return None, "This PDF is password-protected and could not be included."
        len(reader.pages)
    except (PdfReadError, ValueError, KeyError):
        return None, "This PDF could not be read and was left out; open it in Bridge."
    return data, ""


def _summary_page(asset: Asset, note: str, link: str) -> bytes:
    version = asset.current_version
    image = None
    if version is not None and version.file_type in ("png", "jpeg"):
        raw = storage.path_of(version.stored_name).read_bytes()
        image = f"data:{version.mime_type};base64,{base64.b64encode(raw).decode()}"
    return _render("pdf/kit_summary.html", asset=asset, note=note, image=image, link=link,
                   body=render_markdown(asset.body) if asset.body else "",
                   excerpt=(version.text[:1800] if version is not None and not image else ""))


def _part(asset: Asset, link: str) -> Part:
    data, note = _stored_pdf(asset)
    if data is None:
        data = _summary_page(asset, note, link)
        note = note or "Summary"
    return Part(asset, data, len(PdfReader(io.BytesIO(data)).pages), note)


def build_kit(user, chosen: list[Asset], account: str, title: str, intro: str,
              asset_link: Callable[[int], str]) -> GeneratedDocument:
    """Cover, contents, then each chosen asset, merged into one stored PDF; logged as a customizing
    of each asset. `asset_link(id)` is the address of an asset's page, printed on summary pages."""
    account, title, intro = account.strip()[:120], title.strip()[:200], intro.strip()[:4000]
    if not account:
        raise DocumentError("Say which account this pitch kit is for.")
    if not chosen:
        raise DocumentError("Choose at least one asset for the kit.")
    if len(chosen) > MAX_ITEMS:
        raise DocumentError(f"A kit holds at most {MAX_ITEMS} assets.")
    parts = [_part(a, asset_link(a.id)) for a in chosen]
    front_pages = 3 if intro else 2  # cover, the letter, the contents: a page each, unless longer
    for _ in range(2):
        starts = [front_pages + 1 + sum(p.pages for p in parts[:n]) for n in range(len(parts))]
        cover = _render("pdf/kit_cover.html", title=title or f"Prepared for {account}", account=account,
                        intro=intro, user=user, parts=parts, starts=starts)
        rendered = len(PdfReader(io.BytesIO(cover)).pages)
        if rendered == front_pages:
            break
        front_pages = rendered  # a long letter or contents: number the pages again
    writer = PdfWriter()
    writer.append(io.BytesIO(cover), import_outline=False)
    writer.add_outline_item(title="Contents", page_number=front_pages - 1)
    for part, start in zip(parts, starts, strict=True):
        writer.append(io.BytesIO(part.pdf), import_outline=False)
        writer.add_outline_item(title=part.asset.title, page_number=start - 1)
    out = io.BytesIO()
    writer.write(out)
    body = out.getvalue()
    stored = storage.store_bytes(body, "pdf")
    try:
        with transaction():
            document = GeneratedDocument(
                user_id=user.id, asset_id=None, template_version=0, account=account,
                title=f"Pitch kit — {title or account}"[:240],
                values={"kit": [a.id for a in chosen], "title": title, "intro": intro,
                        "summarised": [p.asset.id for p in parts if not p.merged]},
                stored_name=stored, page_count=len(writer.pages), size_bytes=len(body))
            db.session.add(document)
    except BaseException:
        storage.discard(stored)
        raise
    for asset in chosen:
        usage.log_event("customize", user=user, asset=asset, account=document.account, document_id=document.id,
                        kit=True)
    return document
