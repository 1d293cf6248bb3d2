"""HTTP response headers that make the browser enforce what the app promises.

Every page's scripts and styles come from /static (no inline code), so the Content Security
Policy can forbid inline scripts and foreign origins outright. Images may be `data:` URIs (the
customize preview). No page may be framed. Referrers never leave the site, so a share link's
token is not leaked to the sites a prospect goes on to.
"""
from __future__ import annotations

from flask import Flask, Response, request

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def configure(app: Flask) -> None:
    hsts = app.config.get("SESSION_COOKIE_SECURE", False)  # served over HTTPS

    @app.after_request
    def secure_headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if hsts:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if request.endpoint != "static" and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"  # pages hold private data; never cache them
        return response
