"""The zip-bomb check on Office packages bounds the entry count, the total unpacked size and the
compression ratio, each on its own (not only single entries over 10 MB)."""
from __future__ import annotations

import os
import zipfile

import pytest

from app.files import ingest

pytestmark = pytest.mark.no_database  # an engine's own test: run once, in the SQLite run


def package(path, entries: dict[str, bytes]):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def refused(path) -> bool:
    try:
        ingest.check_zip_bomb(path)
    except ingest.IngestError as error:
        assert "expands to far more data" in str(error)
        return True
    return False


def test_fifty_entries_of_nine_megabytes_are_refused(sample_files):
    assert refused(sample_files.spread_zip_bomb_docx())


def test_a_real_word_document_passes(sample_files):
    assert not refused(sample_files.docx())


def test_too_many_entries_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(ingest, "MAX_ZIP_ENTRIES", 20)
    assert not refused(package(tmp_path / "ok.docx", {f"word/p{n}.xml": b"<p/>" for n in range(18)}))
    assert refused(package(tmp_path / "many.docx", {f"word/p{n}.xml": b"<p/>" for n in range(19)}))


def test_too_much_in_all_is_refused_even_when_nothing_compresses(tmp_path, monkeypatch):
    monkeypatch.setattr(ingest, "MAX_ZIP_UNCOMPRESSED", 1_000_000)
    photos = {f"word/media/photo{n}.jpg": os.urandom(400_000) for n in range(3)}
    assert refused(package(tmp_path / "photos.docx", photos))


@pytest.mark.parametrize("size", [2_000_000, 8_000_000])
def test_one_entry_that_expands_a_hundredfold_is_refused(tmp_path, size):
    assert refused(package(tmp_path / "zeros.docx", {"word/media/zeros.bin": b"\0" * size}))
