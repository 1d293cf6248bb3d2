"""Previews of uploaded files: a PDF of a deck's or document's pages (LibreOffice, in
app/files/convert.py), its page count, and page 1 as the thumbnail, made once per version.

`prepare(version)` is the one call. The upload queues it as a job once the version is committed
(`library.assets.prepare_soon`): until it has run a version simply has no preview yet. It never
fails: when no preview can be made, the version keeps a note saying why.
"""
from __future__ import annotations

import logging
from pathlib import Path

from flask import current_app

from app.database import transaction
from app.files import convert, pages, storage
from app.models import AssetVersion

log = logging.getLogger("bridge.previews")

CONVERTED = ("pptx", "docx")
PREPARED = ("pdf", *CONVERTED)  # the file types `prepare` gives pages and a thumbnail
TURNED_OFF = "No preview: previews of decks and documents are turned off on this server."
# Notes of files that were never tried: `flask previews` tries them again (the others failed on their own).
NOT_TRIED = (TURNED_OFF, convert.NOT_INSTALLED)


def prepare(version: AssetVersion) -> AssetVersion:
    """Give `version` its pages PDF, page count and thumbnail (or a note on why it has none)."""
    if version.file_type not in PREPARED:
        return version  # images get their thumbnail when they are read (app/files/extract.py)
    preview_name, note, page_count = None, "", version.page_count
    if version.file_type == "pdf":
        pdf_path: Path | None = storage.path_of(version.stored_name)
    else:
        try:
            preview_name = office_to_pdf(storage.path_of(version.stored_name), version.file_type)
            pdf_path = storage.path_of(preview_name)
            page_count = pages.page_count(pdf_path)
        except (convert.ConversionError, pages.PageError) as exc:
            storage.discard(preview_name)
            preview_name, pdf_path, note = None, None, str(exc)[:300]
            if note != TURNED_OFF:
                log.warning("no preview for version %s (%s): %s", version.id, version.original_filename, note)
    thumbnail_name = version.thumbnail_name
    if pdf_path is not None:
        thumbnail = pages.thumbnail_png(pdf_path, storage.incoming_dir())
        if not thumbnail.placeholder:  # the kind's coloured tile says more than a grey page
            thumbnail_name = storage.store_bytes(thumbnail.png, "png")
    replaced = [n for n in (version.preview_name, version.thumbnail_name)
                if n and n not in (preview_name, thumbnail_name)]
    with transaction():
        version.preview_name, version.preview_note = preview_name, note
        version.page_count, version.thumbnail_name = page_count, thumbnail_name
    storage.discard(*replaced)
    return version


def office_to_pdf(source: Path, file_type: str) -> str:
    """Convert a stored deck or document; returns the stored name of its PDF, or ConversionError."""
    config = current_app.config
    if not config["OFFICE_PREVIEWS"]:
        raise convert.ConversionError(TURNED_OFF)
    root = config["DATA_DIR"] / "office-profile"
    root.mkdir(mode=0o700, exist_ok=True)
    scratch = storage.scratch_path("pdf")
    limits = convert.Limits(timeout_s=config["CONVERT_TIMEOUT_S"], memory_mb=config["CONVERT_MEMORY_MB"])
    convert.to_pdf(source, file_type, scratch, limits=limits, soffice=Path(config["SOFFICE_PATH"]),
                   profile_root=root)
    return storage.keep(scratch)


def available() -> bool:
    """Whether uploads of decks and documents get previews on this server."""
    return current_app.config["OFFICE_PREVIEWS"] and convert.available(Path(current_app.config["SOFFICE_PATH"]))
