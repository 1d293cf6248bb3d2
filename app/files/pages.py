"""PDF pages as PNG images, rendered by pdfium in a bounded child process: the only module that
renders PDF pages (share viewer, in-app viewer, customize previews, thumbnails).

Each process gets one long-lived child, started with `python -I pages.py --serve` (never forked:
a forked child inherits every descriptor, the server's listening socket included, and the
server's signal handlers). The child:

- refuses a page whose image at the asked width would exceed a pixel budget (a 20 x 14,400 pt
  page at 1000 px wide is 720 Mpx, 2.9 GB of bitmap) before allocating anything;
- runs under an address-space limit, and is killed when a page overruns its time;
- exits when its parent goes, however it goes (stdin EOF, or its parent changing).

Whatever fails, the caller gets a PNG: the page, or a placeholder saying why not, and a
`bridge.pages` log line. Cached pages are written under a unique temporary name and renamed into
place, so concurrent first requests for one page each get a complete file. Neither this module
nor its child reads Flask: `init_app` and `renderer` are the only ties to the app.
"""
from __future__ import annotations

import atexit
import io
import json
import logging
import os
import secrets
import select
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("bridge.pages")

MAX_WIDTH = 4000
STARTUP_TIMEOUT_S = 30.0
THUMBNAIL_WIDTH = 360


class PageError(ValueError):
    """The page cannot exist: not a PDF, no such page, an absurd width (a 404 for the caller)."""


@dataclass(frozen=True)
class Limits:
    """Bounds on one page render."""

    timeout_s: float = 10.0
    memory_mb: int = 1024         # on top of the child's own interpreter and libraries
    max_pixels: int = 25_000_000  # width x height of the image to make


@dataclass(frozen=True)
class PageImage:
    """A rendered page (or its placeholder) as PNG bytes."""

    png: bytes
    placeholder: bool = False
    reason: str = ""


class PageRenderer:
    """One child per process, started on first use and again after it is killed."""

    def __init__(self, limits: Limits = Limits()):
        self.limits = limits
        self._lock = threading.Lock()
        self._child: subprocess.Popen | None = None
        self._pid: int | None = None

    def render(self, pdf: Path, index: int, width: int, scratch_dir: Path) -> PageImage:
        """Page `index` (0-based) of `pdf`, `width` pixels wide; PageError if there is no such page."""
        if not 1 <= width <= MAX_WIDTH:
            raise PageError(f"width must be 1 to {MAX_WIDTH} pixels")
        if index < 0:
            raise PageError("no such page")
        out = scratch_dir / f".page-{os.getpid()}-{secrets.token_hex(8)}.png"
        try:
            answer = self._ask({"op": "render", "pdf": str(Path(pdf).resolve()), "index": index,
                                "width": width, "out": str(out)})
            if answer.get("ok"):
                return PageImage(out.read_bytes())
        finally:
            out.unlink(missing_ok=True)
        return self._failed(answer, pdf, index, width)

    def page_count(self, pdf: Path) -> int:
        """How many pages `pdf` has; PageError if it cannot be read."""
        answer = self._ask({"op": "count", "pdf": str(Path(pdf).resolve())})
        if "pages" not in answer:
            raise PageError(answer.get("error") or answer.get("failed") or "not a readable PDF")
        return answer["pages"]

    def close(self) -> None:
        with self._lock:
            self._stop()

    def child_pid(self) -> int | None:
        """The running child's pid, if this process has one (for tests and diagnostics)."""
        child = self._child
        return child.pid if child is not None and self._pid == os.getpid() and child.poll() is None else None

    def _failed(self, answer: dict, pdf: Path, index: int, width: int) -> PageImage:
        if "error" in answer:  # the request itself is wrong, whatever the limits
            raise PageError(answer["error"])
        reason = answer.get("over_budget") or answer.get("failed") or "unknown"
        log.warning("page %d of %s not rendered at %d px: %s", index + 1, Path(pdf).name, width, reason)
        return PageImage(placeholder_png(width, answer.get("aspect")), placeholder=True, reason=reason)

    def _ask(self, request: dict) -> dict:
        """Send one request and wait for its answer within the time limit."""
        with self._lock:
            try:
                self._start_if_needed()
            except OSError as exc:
                return {"failed": str(exc)}
            try:
                self._child.stdin.write(json.dumps(request).encode() + b"\n")
                self._child.stdin.flush()
                ready, _, _ = select.select([self._child.stdout], [], [], self.limits.timeout_s)
                line = self._child.stdout.readline() if ready else b""
            except OSError:
                line = b""
            if not line:
                timed_out = self._child.poll() is None
                self._stop()
                return {"failed": f"took longer than {self.limits.timeout_s:g} s" if timed_out
                        else "the renderer stopped (out of memory?)"}
            return json.loads(line)

    def _start_if_needed(self) -> None:
        if self._child is not None and self._pid == os.getpid() and self._child.poll() is None:
            return
        self._stop()  # the pipes of a child that exited (after an out-of-memory answer)
        limits = self.limits
        command = [sys.executable, "-I", str(Path(__file__).resolve()), "--serve", str(os.getpid()),
                   str(limits.memory_mb), str(limits.max_pixels)]
        self._child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       stderr=subprocess.DEVNULL, close_fds=True, start_new_session=True)
        self._pid = os.getpid()
        # Wait for the child to be ready, so its start-up (0.2-0.5 s of imports) is not taken
        # from the first page's time limit.
        ready, _, _ = select.select([self._child.stdout], [], [], STARTUP_TIMEOUT_S)
        if not ready or not self._child.stdout.readline():
            self._stop()
            raise OSError("the page renderer did not start")

    def _stop(self) -> None:
        if self._child is not None and self._pid == os.getpid():
            self._child.kill()
            self._child.wait()
            self._child.stdin.close()
            self._child.stdout.close()
        self._child = None


_renderers: dict[Limits, PageRenderer] = {}
_renderers_lock = threading.Lock()


@atexit.register
def _close_all() -> None:
    for renderer_ in _renderers.values():
        renderer_.close()


def init_app(app) -> None:
    """Give the app its page renderer: one per process and limits, shared by the apps a process
    makes (tests make many); its child starts on first use, in the process that renders."""
    limits = Limits(timeout_s=app.config["PAGE_TIMEOUT_S"], memory_mb=app.config["PAGE_MEMORY_MB"],
                    max_pixels=app.config["PAGE_MAX_PIXELS"])
    with _renderers_lock:
        app.extensions["page_renderer"] = _renderers.setdefault(limits, PageRenderer(limits))


def renderer() -> PageRenderer:
    """This app's renderer (a forked process starts its own child: see `_start_if_needed`)."""
    from flask import current_app

    return current_app.extensions["page_renderer"]


def page_png(pdf_path: Path, index: int, width: int, cache_dir: Path) -> Path:
    """The cached PNG of page `index` (0-based) of `pdf_path` at `width` px, made if missing.

    A placeholder is cached like a page: a page over budget stays over budget, and one that
    took too long should not get to take that long on every request.
    """
    final = cache_dir / f"{Path(pdf_path).stem}-{index + 1}-{width}.png"
    if final.exists():
        return final
    cache_dir.mkdir(parents=True, exist_ok=True)
    image = renderer().render(pdf_path, index, width, cache_dir)
    scratch = cache_dir / f".{final.name}.{os.getpid()}-{secrets.token_hex(6)}.tmp"
    try:
        scratch.write_bytes(image.png)
        os.replace(scratch, final)
    finally:
        scratch.unlink(missing_ok=True)
    return final


def pages_of_bytes(pdf: bytes, width: int, max_pages: int, scratch_dir: Path) -> list[PageImage]:
    """The first `max_pages` pages of a PDF held in memory (a customize preview), uncached."""
    scratch_dir.mkdir(parents=True, exist_ok=True)
    path = scratch_dir / f".preview-{secrets.token_hex(8)}.pdf"
    try:
        path.write_bytes(pdf)
        engine = renderer()
        count = min(engine.page_count(path), max_pages)
        return [engine.render(path, index, width, scratch_dir) for index in range(count)]
    finally:
        path.unlink(missing_ok=True)


def page_count(pdf_path: Path) -> int:
    """How many pages the PDF has, counted by the bounded child; PageError if it is not readable."""
    return renderer().page_count(pdf_path)


def thumbnail_png(pdf_path: Path, scratch_dir: Path) -> PageImage:
    """Page 1 at thumbnail width (a placeholder when it cannot be drawn within bounds)."""
    return renderer().render(pdf_path, 0, THUMBNAIL_WIDTH, scratch_dir)


def placeholder_png(width: int, aspect: float | None = None) -> bytes:
    """A plain grey page with a short note, in the page's proportions when they are known."""
    from PIL import Image, ImageDraw, ImageFont

    aspect = min(max(aspect or 1.2941, 0.25), 2.0)  # default: US Letter; never a strip or a tower
    height = max(1, round(width * aspect))
    image = Image.new("RGB", (width, height), (238, 240, 243))
    draw = ImageDraw.Draw(image)
    text = "Preview not available for this page"
    font = ImageFont.load_default(size=max(10, width // 30))
    box = draw.textbbox((0, 0), text, font=font)
    draw.text(((width - (box[2] - box[0])) / 2, (height - (box[3] - box[1])) / 2), text,
              fill=(90, 96, 105), font=font)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


# -- the child ---------------------------------------------------------------------------------

def _serve(parent: int, memory_mb: int, max_pixels: int) -> None:
    import resource

    import pypdfium2 as pdfium

    _exit_with_parent(parent)
    with open("/proc/self/statm") as fh:
        in_use = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    limit = in_use + memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    _answer({"ready": True})
    for line in sys.stdin.buffer:
        request = json.loads(line)
        try:
            answer = _handle(pdfium, request, max_pixels)
        except MemoryError:
            _answer({"failed": "out of memory"})
            return  # a fresh child rather than one with a fragmented heap
        except Exception as exc:  # pdfium's and Pillow's own failures on a page that opened
            answer = {"failed": f"{type(exc).__name__}: {exc}"[:200]}
        _answer(answer)


def _answer(answer: dict) -> None:
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()


def _handle(pdfium, request: dict, max_pixels: int) -> dict:
    try:
        document = pdfium.PdfDocument(request["pdf"])
    except (pdfium.PdfiumError, FileNotFoundError) as exc:  # damaged, encrypted, not a PDF: never a page
        return {"error": f"not a readable PDF ({exc})"[:200]}
    try:
        if request["op"] == "count":
            return {"pages": len(document)}
        index, width = request["index"], request["width"]
        if not 0 <= index < len(document):
            return {"error": "no such page"}
        page = document[index]
        page_width, page_height = page.get_size()  # points, after /Rotate
        if page_width <= 0 or page_height <= 0:
            return {"failed": "the page has no size"}
        scale = width / page_width
        height = round(page_height * scale)
        aspect = page_height / page_width
        if width * height > max_pixels:
            return {"over_budget": f"{width} x {height} px is over the {max_pixels / 1e6:g} Mpx budget "
                                   f"(page {page_width:g} x {page_height:g} pt)", "aspect": aspect}
        bitmap = page.render(scale=scale, may_draw_forms=True)
        bitmap.to_pil().convert("RGB").save(request["out"], "PNG")
        return {"ok": True, "width": width, "height": height}
    finally:
        document.close()


def _exit_with_parent(parent: int) -> None:
    """Leave when the parent does. Polling getppid, not PR_SET_PDEATHSIG: the death signal fires
    when the *thread* that started us ends, and a threaded server ends request threads."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    if os.getppid() != parent:
        os._exit(0)
    threading.Thread(target=watch, daemon=True).start()


if __name__ == "__main__" and sys.argv[1:2] == ["--serve"]:
    _serve(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
