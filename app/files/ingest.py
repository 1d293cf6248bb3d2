"""Upload checks, sandboxed text extraction and thumbnails; the gate every file passes."""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import filetype
from flask import current_app

from app.files import storage

FILE_TYPES = {
    "pdf": "application/pdf",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "png": "image/png",
    "jpg": "image/jpeg",
}
EXTENSION_TYPES = {"pdf": "pdf", "pptx": "pptx", "docx": "docx", "png": "png", "jpg": "jpg", "jpeg": "jpg"}
TYPE_NAMES = {"pdf": "a PDF", "pptx": "a PowerPoint deck", "docx": "a Word document",
              "png": "a PNG image", "jpg": "a JPEG image"}
OFFICE_MARKERS = {"pptx": "ppt/presentation.xml", "docx": "word/document.xml"}
MAX_ZIP_ENTRIES = 10_000  # a 500-slide deck has about 1,500
# Office XML and the media in it (already compressed) unpack to a few times the package's size: a
# 50 MB upload far below 256 MB, and never a hundred times its size, whole or entry by entry.
MAX_ZIP_UNCOMPRESSED = 256 * 1024 * 1024
MAX_ZIP_RATIO = 100
RATIO_FLOOR = 1024 * 1024  # smaller entries (and packages) may compress as well as they like
EXTRACTOR = Path(__file__).with_name("extract.py")


class IngestError(ValueError):
    """A reason, fit to show the uploader, why a file was refused."""


@dataclass(frozen=True)
class StoredFile:
    """A checked file now in the store, with what was learned from it."""

    stored_name: str
    thumbnail_name: str | None
    original_filename: str
    file_type: str
    mime_type: str
    size_bytes: int
    sha256: str
    page_count: int | None
    text: str

    @property
    def names(self) -> tuple[str, str | None]:
        return self.stored_name, self.thumbnail_name


def accepted_types_label() -> str:
    return "PDF, PPTX, DOCX, PNG or JPEG"


def detect_type(path: Path) -> str | None:
    """The file type from its content (magic bytes and package layout), not its name."""
    with path.open("rb") as fh:
        head = fh.read(8192)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return _office_type(path)
    kind = filetype.guess(head)
    if kind is not None and kind.extension in ("png", "jpg"):
        return kind.extension
    return None


def _office_type(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return None
    for file_type, marker in OFFICE_MARKERS.items():
        if marker in names and "[Content_Types].xml" in names:
            return file_type
    return None


def check_zip_bomb(path: Path) -> None:
    """Refuse Office packages whose contents would expand far beyond their size: too many entries,
    too much in all (50 entries of 9 MB passed when only single entries over 10 MB were checked), or
    a ratio beyond MAX_ZIP_RATIO for the whole package or any entry over RATIO_FLOOR."""
    with zipfile.ZipFile(path) as archive:
        entries = archive.infolist()
    total = sum(info.file_size for info in entries)
    packed = max(path.stat().st_size, 1)
    if (len(entries) > MAX_ZIP_ENTRIES or total > MAX_ZIP_UNCOMPRESSED
            or (total > RATIO_FLOOR and total / packed > MAX_ZIP_RATIO)
            or any(info.file_size > RATIO_FLOOR and info.file_size > MAX_ZIP_RATIO * max(info.compress_size, 1)
                   for info in entries)):
        raise IngestError("This file expands to far more data than a document should hold; it was refused.")


def check_file(path: Path, filename: str) -> str:
    """Validate size, type and name agreement; return the detected type."""
    max_bytes = current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024
    size = path.stat().st_size
    if size == 0:
        raise IngestError(f"{filename} is empty.")
    if size > max_bytes:
        limit = current_app.config["MAX_UPLOAD_MB"]
        raise IngestError(f"{filename} is {size / 1048576:.1f} MB; the limit is {limit} MB.")
    detected = detect_type(path)
    claimed = EXTENSION_TYPES.get(Path(filename).suffix.lower().lstrip("."))
    if claimed and detected != claimed:
        named = TYPE_NAMES[claimed]
        raise IngestError(f"{filename} is named like {named} but its content is not {named}.")
    if detected is None:
        raise IngestError(f"{filename} is not a file type Bridge accepts ({accepted_types_label()}).")
    if detected in OFFICE_MARKERS:
        check_zip_bomb(path)
    return detected


def ingest(source: Path, filename: str) -> StoredFile:
    """Check, extract and store a copy of `source`; on any refusal nothing is left in the store."""
    file_type = check_file(source, filename)
    scratch = storage.scratch_path(file_type)
    thumbnail = storage.scratch_path("png")
    try:
        shutil.copyfile(source, scratch)
        extracted = run_extractor(scratch, file_type, thumbnail)
        stored = StoredFile(
            stored_name=storage.keep(scratch),
            thumbnail_name=storage.keep(thumbnail) if extracted["thumbnail"] else None,
            original_filename=Path(filename).name[:255],
            file_type=file_type,
            mime_type=FILE_TYPES[file_type],
            size_bytes=storage.path_of(scratch.name).stat().st_size,
            sha256=sha256_of(storage.path_of(scratch.name)),
            page_count=extracted["page_count"],
            text=extracted["text"],
        )
    except BaseException:
        storage.discard(scratch, thumbnail, scratch.name, thumbnail.name)  # scratch, then stored
        raise
    storage.discard(thumbnail)
    return stored


def run_extractor(path: Path, file_type: str, thumbnail: Path) -> dict:
    """Run extract.py in a child process bounded in memory and time."""
    timeout = current_app.config["EXTRACT_TIMEOUT_S"]
    command = [sys.executable, "-I", str(EXTRACTOR), str(path), file_type, str(thumbnail),
               str(current_app.config["EXTRACT_MEMORY_MB"]), str(int(timeout))]
    try:
        done = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise IngestError(f"Reading this file took longer than {timeout:.0f} s; it was refused.") from exc
    try:
        result = json.loads(done.stdout)
    except ValueError:
        current_app.logger.warning("extractor failed (%s): %s", done.returncode, done.stderr[-2000:])
        raise IngestError("This file could not be read within Bridge's memory and time limits; "
                          "it may be damaged.") from None
    if "error" in result:
        raise IngestError(result["error"])
    return result


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
