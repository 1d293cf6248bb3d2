"""Real sample files made on the spot: PDFs by WeasyPrint, decks by python-pptx, and broken ones."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

from PIL import Image

_RENDERED: dict[tuple[str, ...], bytes] = {}  # pages → the PDF WeasyPrint made of them, once per test process


class SampleFiles:
    """Writes sample uploads into one folder and returns their paths."""

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def path(self, name: str) -> Path:
        return self.folder / name

    def pdf(self, name: str = "brochure.pdf", pages: list[str] = ("Total cost of ownership",)) -> Path:
        from app.files.pdf import render_pdf

        key = tuple(pages)
        if key not in _RENDERED:
            _RENDERED[key] = render_pdf(
                "".join(f'<section style="page-break-after: always"><h1>{p}</h1></section>' for p in pages))
        path = self.path(name)
        path.write_bytes(_RENDERED[key])
        return path

    def encrypted_pdf(self, name: str = "locked.pdf") -> Path:
        from pypdf import PdfReader, PdfWriter

        source = self.pdf("plain-for-lock.pdf", ["Secret pricing"])
        writer = PdfWriter()
        for page in PdfReader(source).pages:
            writer.add_page(page)
        writer.encrypt(user_password="hunter2", owner_password="owner", algorithm="AES-128")
        path = self.path(name)
        with path.open("wb") as fh:
            writer.write(fh)
        return path

    def pptx(self, name: str = "deck.pptx", slides: list[str] = ("Quarterly business review",)) -> Path:
        from pptx import Presentation

        deck = Presentation()
        for title in slides:
            slide = deck.slides.add_slide(deck.slide_layouts[1])
            slide.shapes.title.text = title
            slide.placeholders[1].text = f"Bullet about {title.lower()}"
        path = self.path(name)
        deck.save(path)
        return path

    def docx(self, name: str = "plan.docx", paragraphs: list[str] = ("Mutual action plan",)) -> Path:
        import docx

        document = docx.Document()
        for text in paragraphs:
            document.add_paragraph(text)
        path = self.path(name)
        document.save(path)
        return path

    def pdf_of_pages(self, name: str, sizes: list[tuple[float, float]], contents: list[bytes] = ()) -> Path:
        """A PDF with pages of these sizes in points, each drawn by its raw content stream (if given)."""
        from pypdf import PdfWriter
        from pypdf.generic import DecodedStreamObject, NameObject

        writer = PdfWriter()
        for number, (width, height) in enumerate(sizes):
            page = writer.add_blank_page(width=width, height=height)
            if number < len(contents) and contents[number]:
                stream = DecodedStreamObject()
                stream.set_data(contents[number])
                page[NameObject("/Contents")] = writer._add_object(stream.flate_encode())
        path = self.path(name)
        writer.write(path)
        return path

    def deck_with_picture(self, name: str, title: str, picture: bytes) -> Path:
        """A one-slide deck holding `picture` (python-pptx reads its size: huge ones are allowed here)."""
        from PIL import Image
        from pptx import Presentation
        from pptx.util import Inches

        limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
        try:
            deck = Presentation()
            slide = deck.slides.add_slide(deck.slide_layouts[5])
            slide.shapes.title.text = title
            slide.shapes.add_picture(io.BytesIO(picture), Inches(1), Inches(2), Inches(3))
            path = self.path(name)
            deck.save(path)
        finally:
            Image.MAX_IMAGE_PIXELS = limit
        return path

    def png(self, name: str = "logo.png", size: tuple[int, int] = (640, 480)) -> Path:
        path = self.path(name)
        Image.new("RGB", size, (59, 91, 219)).save(path, "PNG")
        return path

    def jpeg(self, name: str = "photo.jpg") -> Path:
        path = self.path(name)
        Image.new("RGB", (300, 200), (200, 80, 40)).save(path, "JPEG")
        return path

    def raw(self, name: str, content: bytes) -> Path:
        path = self.path(name)
        path.write_bytes(content)
        return path

    def corrupt_pdf(self, name: str = "broken.pdf") -> Path:
        good = self.pdf("good-for-corrupt.pdf").read_bytes()
        return self.raw(name, good[:200] + b"\x00garbage" * 50)

    def zip_bomb_docx(self, name: str = "bomb.docx") -> Path:
        """A valid-looking Word package with a 40 MB entry of zeros compressed to a few KB."""
        path = self.path(name)
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("[Content_Types].xml", "<Types/>")
            archive.writestr("word/document.xml", "<document/>")
            archive.writestr("word/media/filler.bin", b"\0" * 40_000_000)
        return path

    def spread_zip_bomb_docx(self, name: str = "spread-bomb.docx") -> Path:
        """A Word package of 50 entries of 9 MB of zeros each (450 MB unpacked, no entry over 10 MB)."""
        path = self.path(name)
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
            archive.writestr("[Content_Types].xml", "<Types/>")
            archive.writestr("word/document.xml", "<document/>")
            for n in range(50):
                archive.writestr(f"word/media/filler{n}.bin", b"\0" * 9_000_000)
        return path

    def upload(self, path: Path, field: str = "file", filename: str | None = None) -> dict:
        """A form-data entry for the Flask test client."""
        return {field: (io.BytesIO(path.read_bytes()), filename or path.name)}
