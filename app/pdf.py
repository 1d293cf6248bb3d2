"""PDF rendering with WeasyPrint, which may fetch nothing but the app's own static files."""
from __future__ import annotations

import io
import mimetypes
import multiprocessing
import os
import resource
from typing import Callable
from urllib.parse import unquote, urlsplit

from pypdf import PdfReader
from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from .config import ROOT

STATIC_DIR = ROOT / "static"
STATIC_SCHEME = "bridge-static"


class SafeURLFetcher(URLFetcher):
    """Serves `data:` URIs and files below static/ (as bridge-static:/path); refuses the rest.

    No file:, http(s):, ftp: or any other scheme, so no redirect can be followed either.
    """

    def __init__(self):
        super().__init__(allowed_protocols=["data"], allow_redirects=False, timeout=5)

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        if parts.scheme == STATIC_SCHEME:
            path = (STATIC_DIR / unquote(parts.path).lstrip("/")).resolve()
            if path.is_relative_to(STATIC_DIR) and path.is_file():
                mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime})
            raise ValueError(f"no static file at {url[:200]!r}")
        if parts.scheme != "data":
            raise ValueError(f"refused to fetch {url[:200]!r}")
        return super().fetch(url, headers)


class RenderError(Exception):
    """A user-facing reason why a document could not be rendered."""


def render_pdf(html: str, stylesheets: tuple[str, ...] = (), css: str = "") -> bytes:
    """Render HTML, plus stylesheets named relative to static/ and CSS text, to PDF bytes."""
    fetcher = SafeURLFetcher()
    base = f"{STATIC_SCHEME}:/"
    sheets = [CSS(string=(STATIC_DIR / name).read_text(), base_url=base, url_fetcher=fetcher)
              for name in stylesheets]
    if css:
        sheets.append(CSS(string=css, base_url=base, url_fetcher=fetcher))
    return HTML(string=html, base_url=base, url_fetcher=fetcher).write_pdf(stylesheets=sheets)


def render_pdf_bounded(build_html: Callable[[], str], stylesheets: tuple[str, ...] = (), css: str = "", *,
                       timeout: float, memory_mb: int) -> bytes:
    """Build the HTML and render it in a forked child with a time and memory limit.

    Both steps run in the child, so a runaway template (an endless loop, a huge string, absurd
    CSS) costs only the child. WeasyPrint is imported in this process already, so the child
    starts in milliseconds. Raises RenderError with a reason a marketer or rep can act on;
    `build_html` raising ValueError is reported with its message.
    """
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_render_child, args=(sender, build_html, stylesheets, css, memory_mb),
                            daemon=True)
    child.start()
    sender.close()
    try:
        if not receiver.poll(timeout):
            raise RenderError(f"Rendering took longer than {timeout:g} s and was stopped.")
        status, payload = receiver.recv()
    except EOFError:
        raise RenderError("Rendering stopped: the document needs more memory than allowed.") from None
    finally:
        receiver.close()
        if child.is_alive():
            child.kill()
        child.join()
    if status != "ok":
        raise RenderError(payload)
    return payload


def _render_child(sender, build_html, stylesheets, css, memory_mb) -> None:
    pages = os.sysconf("SC_PAGE_SIZE")
    with open("/proc/self/statm") as fh:
        in_use = int(fh.read().split()[0]) * pages  # the forked image counts against the limit
    limit = in_use + memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        sender.send(("ok", render_pdf(build_html(), stylesheets, css)))
    except MemoryError:
        sender.send(("error", "Rendering stopped: the document needs more memory than allowed."))
    except ValueError as exc:  # the caller's own words (a template problem)
        sender.send(("error", str(exc)[:500]))
    except Exception as exc:  # reported to the user; the worker itself is untouched
        sender.send(("error", f"The document could not be rendered: {str(exc)[:300]}"))
    finally:
        sender.close()


def page_count(pdf_bytes: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf_bytes)).pages)
