"""PDF rendering with WeasyPrint, which may fetch nothing but the app's own static files."""
from __future__ import annotations

import atexit
import functools
import io
import mimetypes
import os
import resource
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from urllib.parse import unquote, urlsplit

from flask import current_app
from pypdf import PdfReader

from app.config import ROOT

STATIC_DIR = ROOT / "static"
STATIC_SCHEME = "bridge-static"


@functools.cache
def safe_url_fetcher() -> type:
    """The URL fetcher class WeasyPrint renders with: serves `data:` URIs and files below static/ (as
    bridge-static:/path) and refuses the rest, so no file:, http(s):, ftp: or other scheme, and no
    redirect can be followed either. WeasyPrint is imported here, on the process's first render, not
    when the app is built: web workers render documents in their child and start ~1.6 s sooner."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class SafeURLFetcher(URLFetcher):
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

    return SafeURLFetcher


class RenderError(Exception):
    """A user-facing reason why a document could not be rendered."""


def render_pdf(html: str, stylesheets: tuple[str, ...] = (), css: str = "") -> bytes:
    """Render HTML, plus stylesheets named relative to static/ and CSS text, to PDF bytes."""
    from weasyprint import CSS, HTML

    fetcher = safe_url_fetcher()()
    base = f"{STATIC_SCHEME}:/"
    sheets = [CSS(string=(STATIC_DIR / name).read_text(), base_url=base, url_fetcher=fetcher)
              for name in stylesheets]
    if css:
        sheets.append(CSS(string=css, base_url=base, url_fetcher=fetcher))
    return HTML(string=html, base_url=base, url_fetcher=fetcher).write_pdf(stylesheets=sheets)


class RenderProcess:
    """A long-lived child process, one per worker, that builds and renders documents under limits.

    The child is a fresh interpreter (`python -I -m app.files.render_child`), never a fork of the
    worker: a forked child inherited the server's listening socket, its own pipe's other end (so it
    never saw the worker die) and the server's signal handlers, and outlived a killed worker while
    holding the port. This one gets one socket of its own and nothing else, and leaves when its
    parent goes (end of file on that socket, or its parent changing). It runs with an address-space
    limit, and a render that outlives its time limit gets it killed (a fresh one starts for the next
    render). So a runaway template, an endless loop, a huge string or absurd CSS costs only the
    child. Starting a child per render instead would cost a second of imports each time.
    """

    def __init__(self, memory_mb: int):
        self.memory_mb = memory_mb
        self._lock = threading.Lock()  # one render at a time through the socket
        self._child: subprocess.Popen | None = None
        self._conn: Connection | None = None
        self._pid: int | None = None

    def render(self, build_html: str | Callable[[], str], stylesheets: tuple[str, ...] = (), css: str = "", *,
               timeout: float) -> bytes:
        """PDF bytes, or RenderError with a reason a marketer or rep can act on.

        `build_html` is the HTML, or a function run in the child to build it (it must pickle: a
        module function or a partial of one); a ValueError it raises is reported with its message.
        """
        with self._lock:
            self._start_if_needed()
            try:
                self._conn.send((build_html, stylesheets, css))
                if not self._conn.poll(timeout):
                    self._stop()
                    raise RenderError(f"Rendering took longer than {timeout:g} s and was stopped.")
                status, payload = self._conn.recv()
            except (EOFError, OSError):
                self._stop()
                raise RenderError(MEMORY_MESSAGE) from None
            if status == "memory":
                self._stop()  # a fresh child rather than one with a fragmented heap
            if status != "ok":
                raise RenderError(payload)
            return payload

    def child_pid(self) -> int | None:
        """The running child's pid, if this process has one (for tests and diagnostics)."""
        child = self._child
        return child.pid if child is not None and self._pid == os.getpid() and child.poll() is None else None

    def _start_if_needed(self) -> None:
        if self._child is not None and self._pid == os.getpid() and self._child.poll() is None:
            return
        self._stop()
        ours, theirs = socket.socketpair()
        try:
            self._child = subprocess.Popen(
                [sys.executable, "-I", "-m", "app.files.render_child", str(theirs.fileno()), str(os.getpid()),
                 str(self.memory_mb)],
                stdin=subprocess.DEVNULL, close_fds=True, pass_fds=(theirs.fileno(),), start_new_session=True)
        finally:
            theirs.close()
        self._conn = Connection(ours.detach())
        self._pid = os.getpid()
        # Its imports (WeasyPrint: about a second) are not taken from the first render's time limit.
        try:
            ready = self._conn.poll(STARTUP_TIMEOUT_S) and self._conn.recv() == "ready"
        except (EOFError, OSError):
            ready = False
        if not ready:
            self._stop()
            raise RenderError("The document renderer did not start; try again in a moment.")

    def _stop(self) -> None:
        if self._child is not None and self._pid == os.getpid():
            self._child.kill()
            self._child.wait()
            self._conn.close()
        self._child = self._conn = None

    def close(self) -> None:
        with self._lock:
            self._stop()


MEMORY_MESSAGE = "Rendering stopped: the document needs more memory than allowed."
STARTUP_TIMEOUT_S = 60.0


def serve(conn: Connection, memory_mb: int) -> None:
    """The render child's loop: build the HTML, render it, send back the PDF or the reason why not.
    It returns (and the child exits) when its worker is gone, whatever it was doing."""
    safe_url_fetcher()  # WeasyPrint loaded before its memory is measured: the limit is on top of it
    with open("/proc/self/statm") as fh:
        in_use = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")  # WeasyPrint and its libraries
    limit = in_use + memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:
        conn.send("ready")
        while True:
            build_html, stylesheets, css = conn.recv()
            try:
                html = build_html() if callable(build_html) else build_html
                conn.send(("ok", render_pdf(html, stylesheets, css)))
            except MemoryError:
                conn.send(("memory", MEMORY_MESSAGE))
                return
            except ValueError as exc:  # the caller's own words (a template problem)
                conn.send(("error", str(exc)[:500]))
            except Exception as exc:  # reported to the user (a broken pipe breaks again, below)
                conn.send(("error", f"The document could not be rendered: {str(exc)[:300]}"))
    except (EOFError, BrokenPipeError, ConnectionResetError):
        return  # the worker went away: no traceback in the server's log


def html_of(template: str, **context) -> str:
    """The HTML of one of templates/pdf/: the body of a PDF (pages are the views' business)."""
    return current_app.jinja_env.get_template(template).render(**context)


def render_bounded(build_html: str | Callable[[], str], stylesheets: tuple[str, ...] = (), css: str = "") -> bytes:
    """`RenderProcess.render` in this worker's render process, with the configured time limit."""
    return current_app.extensions["pdf_renderer"].render(build_html, stylesheets, css,
                                                         timeout=current_app.config["RENDER_TIMEOUT_S"])


_processes: dict[int, RenderProcess] = {}
_processes_lock = threading.Lock()


@atexit.register
def _close_all() -> None:
    for process in _processes.values():
        process.close()


def init_app(app) -> None:
    """Give the app its render process: one per process and memory limit, shared by the apps a
    process makes (tests make many), started on first use in the process that renders."""
    memory_mb = app.config["RENDER_MEMORY_MB"]
    with _processes_lock:
        app.extensions["pdf_renderer"] = _processes.setdefault(memory_mb, RenderProcess(memory_mb))


def page_count(pdf_bytes: bytes) -> int:
    """Pages of a PDF Bridge made itself (WeasyPrint's or a kit's): pypdf, in the worker, is safe here."""
    return len(PdfReader(io.BytesIO(pdf_bytes)).pages)
