"""Browser journeys' tools: Debian's Chromium driven by Playwright through a live Bridge, and what a
journey reads back (PDF text, page width). The fixtures that use them are in tests/conftest.py."""
from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import pypdf
from playwright.sync_api import Browser, BrowserContext, Page, expect
from werkzeug.serving import make_server

from tests.factories import PASSWORD

CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 860}
FAST_LOG = {"USAGE_FLUSH_MS": 50}  # the rep's pages show prospect events within a moment


def buffered(app):
    """The app with each response body read whole and its iterable closed before the server writes it.

    Werkzeug's development server closes a response's iterable only after draining the socket; when a
    browser drops the connection mid-download (a page left while its images load), that drain raises
    and a file `send_file` opened is left to the garbage collector, a ResourceWarning that fails the
    journey at random. Bridge streams nothing, so buffering changes no answer.
    """
    def wrapped(environ, start_response):
        iterable = app(environ, start_response)
        try:
            return [b"".join(iterable)]
        finally:
            if hasattr(iterable, "close"):
                iterable.close()
    return wrapped


class LiveServer:
    """The app served over HTTP on a free loopback port, as a browser sees it."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, buffered(app), threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.server.server_port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(10)
        self.server.server_close()


class Journey:
    """Browser contexts for a test, with numbered screenshots in the test's output folder."""

    def __init__(self, browser: Browser, base: str, folder: Path):
        self.browser, self.base, self.folder = browser, base, folder
        self.contexts: list[BrowserContext] = []
        self.shots = 0
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.png"):
            old.unlink()

    def page(self, viewport=LAPTOP, **options) -> Page:
        context = self.browser.new_context(base_url=self.base, viewport=viewport, accept_downloads=True, **options)
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(20_000)
        return page

    def login(self, email: str, password: str = PASSWORD, viewport=LAPTOP, **options) -> Page:
        page = self.page(viewport, **options)
        page.goto("/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        expect(page.locator(".flash-success")).to_contain_text("Welcome back")
        return page

    def shot(self, page: Page, name: str) -> None:
        self.shots += 1
        page.screenshot(path=self.folder / f"{self.shots:02d}-{name}.png", full_page=True)

    def close(self) -> None:
        for context in self.contexts:
            context.close()


def pdf_text(path: str | Path) -> tuple[str, int]:
    reader = pypdf.PdfReader(io.BytesIO(Path(path).read_bytes()))
    return " ".join(" ".join((p.extract_text() or "").split()) for p in reader.pages), len(reader.pages)


def no_horizontal_scroll(page: Page) -> bool:
    """Whether the page, once settled, fits its width: a page still laying out (an image or a style
    sheet arriving on a loaded machine) gets up to 5 s, as a person would see it after loading."""
    # Polled from here: wait_for_function evaluates its predicate with eval() inside the page, which
    # the pages' Content-Security-Policy (script-src 'self') refuses; evaluate() is not subject to it.
    deadline = time.monotonic() + 5
    while True:
        if page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"):
            return True
        if time.monotonic() > deadline:
            return False
        page.wait_for_timeout(100)
