"""PDF rendering with WeasyPrint, which may fetch nothing but the app's own static files."""
from __future__ import annotations

import mimetypes
from urllib.parse import unquote, urlsplit

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


def render_pdf(html: str, stylesheets: tuple[str, ...] = ()) -> bytes:
    """Render HTML, plus stylesheets named relative to static/, to PDF bytes."""
    fetcher = SafeURLFetcher()
    base = f"{STATIC_SCHEME}:/"
    css = [CSS(string=(STATIC_DIR / name).read_text(), base_url=base, url_fetcher=fetcher)
           for name in stylesheets]
    return HTML(string=html, base_url=base, url_fetcher=fetcher).write_pdf(stylesheets=css)
