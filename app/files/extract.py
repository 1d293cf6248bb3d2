"""Text, page count and (for images) thumbnail from one file; run as a limited child process by ingest.py.

PDFs, decks and documents get their thumbnail later from their pages (app/files/previews.py), drawn
by the bounded page renderer.

Usage: python -m app.files.extract FILE TYPE THUMBNAIL_OUT MEMORY_MB CPU_SECONDS
Prints one JSON object: {"text", "page_count", "thumbnail"} or {"error"}.
"""
from __future__ import annotations

import json
import re
import resource
import sys
import warnings
import zipfile
from pathlib import Path

MAX_TEXT_CHARS = 2_000_000
THUMBNAIL_WIDTH = 360


class ExtractionError(Exception):
    """A reason, fit to show the uploader, why the file cannot be used."""


def extract(path: Path, file_type: str, thumbnail_out: Path) -> dict:
    """Return text, page count and whether a thumbnail was written for `path`."""
    handler = {"pdf": _pdf, "pptx": _pptx, "docx": _docx, "png": _image, "jpg": _image}[file_type]
    text, pages, thumb = handler(path, thumbnail_out)
    text = re.sub(r"[ \t]+", " ", text).strip()[:MAX_TEXT_CHARS]
    return {"text": text, "page_count": pages, "thumbnail": thumb}


def _pdf(path: Path, thumbnail_out: Path) -> tuple[str, int, bool]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise ExtractionError("This PDF is password-protected. Remove the password and upload it again.")
        pages = len(reader.pages)
        text = "\n".join(page.extract_text() or "" for page in reader.pages)
    except ExtractionError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise ExtractionError("This PDF could not be read; it may be damaged.") from exc
    if pages == 0:
        raise ExtractionError("This PDF has no pages.")
    return text, pages, False


def _pptx(path: Path, _thumbnail_out: Path) -> tuple[str, int, bool]:
    from pptx import Presentation

    try:
        deck = Presentation(str(path))
    except Exception as exc:  # python-pptx raises many kinds on malformed packages
        raise ExtractionError("This PowerPoint file could not be read; it may be damaged.") from exc
    parts: list[str] = []
    for slide in deck.slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                parts.append(shape.text_frame.text)
            if getattr(shape, "has_table", False) and shape.has_table:
                parts.extend(cell.text for row in shape.table.rows for cell in row.cells)
        if slide.has_notes_slide:
            parts.append(slide.notes_slide.notes_text_frame.text)
    return "\n".join(parts), len(deck.slides), False


def _docx(path: Path, _thumbnail_out: Path) -> tuple[str, int | None, bool]:
    import docx

    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx raises many kinds on malformed packages
        raise ExtractionError("This Word file could not be read; it may be damaged.") from exc
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts.extend(cell.text for row in table.rows for cell in row.cells)
    return "\n".join(parts), _docx_pages(path), False


def _docx_pages(path: Path) -> int | None:
    """Word records the page count in docProps/app.xml when it saves; other writers may not."""
    with zipfile.ZipFile(path) as archive:
        try:
            app_xml = archive.read("docProps/app.xml").decode("utf-8", "replace")
        except KeyError:
            return None
    match = re.search(r"<Pages>(\d+)</Pages>", app_xml)
    return int(match.group(1)) if match else None


def _image(path: Path, thumbnail_out: Path) -> tuple[str, int, bool]:
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = 60_000_000
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                image.load()
                image.thumbnail((THUMBNAIL_WIDTH, THUMBNAIL_WIDTH * 2))
                image.convert("RGB").save(thumbnail_out, "PNG", optimize=True)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise ExtractionError("This image is too large (over 60 megapixels).") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ExtractionError("This image could not be read; it may be damaged.") from exc
    return "", 1, True


def _limit(memory_mb: int, cpu_seconds: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 1024 * 1024,) * 2)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))


def main(argv: list[str]) -> int:
    path, file_type, thumbnail_out, memory_mb, cpu_seconds = argv
    _limit(int(memory_mb), int(cpu_seconds))
    try:
        result = extract(Path(path), file_type, Path(thumbnail_out))
    except ExtractionError as exc:
        result = {"error": str(exc)}
    except MemoryError:
        result = {"error": "This file needs too much memory to read."}
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
