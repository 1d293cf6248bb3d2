"""Decks and Word documents become PDFs a reader recognises (LibreOffice, bounded); hostile ones get a
reason and no PDF. The real conversions run once per test process (a session fixture)."""
from __future__ import annotations

import io
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pypdf
import pytest
from PIL import Image

from app.files import convert
from tests.samples import SampleFiles

pytestmark = pytest.mark.no_database  # an engine's own test: run once, in the SQLite run

SLIDES = ["Mercy Regional", "Bed capacity in one view", "Next steps together"]


def pdf_pages(path: Path) -> list[str]:
    return [" ".join((p.extract_text() or "").split()) for p in pypdf.PdfReader(path).pages]


def png(size, colour, mode="RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="session")
def converted(tmp_path_factory) -> dict:
    """A deck and a Word document made here, each converted once, and what was left beside them."""
    folder = tmp_path_factory.mktemp("converted")
    files = SampleFiles(folder / "in")
    deck = files.pptx("pitch.pptx", slides=SLIDES)
    document = files.docx("plan.docx", paragraphs=["Mutual action plan", "Kick-off on 3 March with the CFO.",
                                                   "Security review by 14 March."])
    out = folder / "out"
    out.mkdir()
    profile = folder / "profile"
    profile.mkdir()
    result = {name: convert.to_pdf(source, kind, out / f"{name}.pdf", profile_root=profile)
              for name, source, kind in (("deck", deck, "pptx"), ("document", document, "docx"))}
    result["left"] = sorted(p.name for p in out.iterdir())
    return result


def test_a_deck_becomes_one_page_per_slide_with_its_words(converted):
    pages = pdf_pages(converted["deck"])
    assert len(pages) == 3
    for page, title in zip(pages, SLIDES, strict=True):
        assert title in page and f"Bullet about {title.lower()}" in page


def test_a_word_document_keeps_its_paragraphs(converted):
    text = " ".join(pdf_pages(converted["document"]))
    for words in ("Mutual action plan", "Kick-off on 3 March with the CFO.", "Security review by 14 March."):
        assert words in text


def test_nothing_but_the_pdf_is_left_behind(converted):
    assert converted["left"] == ["deck.pdf", "document.pdf"]


def test_a_file_that_is_not_a_package_gets_a_reason_not_a_pdf(tmp_path):
    fake = tmp_path / "deck.pptx"
    fake.write_bytes(b"PK\x03\x04 this is not a presentation" * 100)
    (tmp_path / "profile").mkdir()
    with pytest.raises(convert.ConversionError, match="No preview"):
        convert.to_pdf(fake, "pptx", tmp_path / "deck.pdf", profile_root=tmp_path / "profile")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deck.pptx", "profile"]


def test_without_libreoffice_there_is_a_clear_no_preview(tmp_path, sample_files):
    with pytest.raises(convert.ConversionError, match="not installed"):
        convert.to_pdf(sample_files.pptx(), "pptx", tmp_path / "x.pdf", soffice=Path("/nonexistent/soffice.bin"))


def test_a_900_megapixel_picture_is_refused_before_libreoffice_decodes_it(tmp_path, sample_files):
    """A 29 KB deck holding one 30,000 x 30,000 PNG kept LibreOffice busy for minutes."""
    deck = sample_files.deck_with_picture("bomb.pptx", "Innocent title", png((30_000, 30_000), 1, mode="1"))
    assert deck.stat().st_size < 100_000
    with pytest.raises(convert.ConversionError, match="900 megapixels"):
        convert.to_pdf(deck, "pptx", tmp_path / "bomb.pdf", profile_root=tmp_path)


def test_a_conversion_over_its_time_kills_everything_it_started(tmp_path, sample_files):
    """A stand-in soffice that hangs, with a child of its own: both are gone after the timeout."""
    marker = "987.654321"
    fake = tmp_path / "hanging-soffice"
    fake.write_text("#!/bin/sh\n"
                    'case "$*" in *--terminate_after_init*) exit 0;; esac\n'
                    f"sleep {marker} &\nsleep {marker}\n")
    fake.chmod(0o755)
    with pytest.raises(convert.ConversionError, match="longer than 1 s"):
        convert.to_pdf(sample_files.pptx(), "pptx", tmp_path / "a.pdf", limits=convert.Limits(timeout_s=1),
                       soffice=fake, profile_root=tmp_path)
    deadline = time.monotonic() + 10
    while processes_mentioning(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_mentioning(marker) == []
    assert not (tmp_path / "a.pdf").exists()


def processes_mentioning(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


class Recorder(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's naming)
        Recorder.hits.append(self.path)
        body = png((8, 8), (0, 255, 0))
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def link_pictures_in_deck(path: Path, targets: list[str]) -> None:
    """Turn the deck's pictures into links to `targets` (python-pptx has no API for linked pictures)."""
    from pptx import Presentation
    from pptx.opc.constants import RELATIONSHIP_TYPE as RT
    from pptx.util import Inches

    r = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
    deck = Presentation(str(path))
    slide = deck.slides[0]
    for number, target in enumerate(targets):
        picture = slide.shapes.add_picture(io.BytesIO(png((8, 8), "white")), Inches(1 + 3 * number), Inches(4),
                                           Inches(2))
        blip = picture._element.blipFill.blip
        del blip.attrib[f"{r}embed"]
        blip.set(f"{r}link", slide.part.relate_to(target, RT.IMAGE, is_external=True))
    deck.save(path)


def link_pictures_in_document(path: Path, targets: list[str]) -> None:
    import docx
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.shared import Inches

    r = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
    document = docx.Document(str(path))
    for target in targets:
        inline = document.add_paragraph().add_run().add_picture(io.BytesIO(png((8, 8), "white")), width=Inches(2))
        blip = inline._inline.graphic.graphicData.pic.blipFill.blip
        del blip.attrib[f"{r}embed"]
        blip.set(f"{r}link", document.part.relate_to(target, RT.IMAGE, is_external=True))
    document.save(path)


def colours(pdf: Path) -> set[tuple[int, int, int]]:
    """Every colour on the PDF's pages (read as images would draw them)."""
    found = set()
    for page in pypdf.PdfReader(pdf).pages:
        for image in page.images:
            found |= {rgb for _count, rgb in image.image.convert("RGB").getcolors(1 << 24)}
    return found


@pytest.mark.parametrize("kind", ["pptx", "docx"])
def test_linked_pictures_are_neither_fetched_nor_read_from_the_server_s_disk(tmp_path, sample_files, kind):
    """LibreOffice's default profile fetches a linked picture over HTTP and embeds a file:// one
    from the server's disk; the hardened profile does neither."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    secret = tmp_path / "secret.png"
    secret.write_bytes(png((64, 64), (255, 0, 255)))
    targets = [f"http://127.0.0.1:{server.server_port}/tracker.png", secret.as_uri()]
    if kind == "pptx":
        source = sample_files.pptx("linked.pptx", slides=["Linked pictures"])
        link_pictures_in_deck(source, targets)
    else:
        source = sample_files.docx("linked.docx", paragraphs=["Linked pictures follow."])
        link_pictures_in_document(source, targets)
    Recorder.hits = []
    try:
        pdf = convert.to_pdf(source, kind, tmp_path / "linked.pdf", profile_root=tmp_path)
    finally:
        server.shutdown()
        server.server_close()
    assert Recorder.hits == []
    assert (0, 255, 0) not in colours(pdf) and (255, 0, 255) not in colours(pdf)
    assert "Linked pictures" in pdf_pages(pdf)[0]
