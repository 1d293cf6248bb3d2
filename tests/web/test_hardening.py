"""What an attacker tries first: framing, sniffing, inline script, guessing passwords, stale cookies."""
from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT_DIR, login, post_form


def test_every_page_carries_the_security_headers(client, login_as, make_asset):
    item = make_asset()
    login_as("rep")
    for url in ("/", f"/assets/{item.id}", "/search?q=roi", "/login", "/no-such-page", "/static/app.css"):
        with client.get(url) as response:
            headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp, url
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, url
        assert headers["X-Content-Type-Options"] == "nosniff", url
        assert headers["X-Frame-Options"] == "DENY", url
        assert headers["Referrer-Policy"] == "same-origin", url
    assert client.get("/").headers["Cache-Control"] == "no-store"


def test_no_template_relies_on_inline_script_or_style():
    """The CSP forbids them: an inline handler or <script> body would silently stop working. (Mail
    bodies are not pages: mail clients read inline styles only, and no script runs in them.)"""
    offenders = []
    mail = ROOT_DIR / "templates" / "notifications" / "mail"
    for template in (ROOT_DIR / "templates").rglob("*.html"):
        text = template.read_text()
        if mail in template.parents:
            assert "<script" not in text and "javascript:" not in text, template.name
            continue
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"\son[a-z]+=\"", text) \
                or re.search(r"\sstyle=\"", text) or "javascript:" in text:
            offenders.append(template.name)
    assert offenders == []


def test_session_cookie_is_httponly_and_samesite(make_user, client):
    cookie = login(client, make_user("rep").email).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


@pytest.mark.parametrize("app", [{"SESSION_COOKIE_SECURE": True}], indirect=True)
def test_behind_https_cookies_are_secure_and_hsts_is_sent(client):
    page = client.get("/login")
    assert "Secure" in page.headers["Set-Cookie"] and "HttpOnly" in page.headers["Set-Cookie"]
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")


def test_guessing_a_password_is_stopped_across_workers(app, make_user):
    """Ten failures lock the account for the window, for every worker: the count is in the database."""
    user = make_user("rep")
    first_worker, second_worker = app.test_client(), app.test_client()
    for attempt in range(10):
        worker = first_worker if attempt % 2 else second_worker
        assert login(worker, user.email, "wrong-password").status_code == 200
    refused = login(first_worker, user.email)  # even the right password, until the window ends
    assert refused.status_code == 429 and "Too many failed attempts" in refused.get_data(as_text=True)
    other = make_user("rep")
    assert login(second_worker, other.email).status_code == 302  # other accounts are unaffected


@pytest.mark.parametrize("app", [{"LOGIN_MAX_FAILURES": 3}], indirect=True)
def test_one_address_trying_many_accounts_is_stopped(app, make_user):
    client = app.test_client()
    for n in range(15):  # 3 × 5 failures from one address, each on a different account
        login(client, f"nobody{n}@example.com", "guess")
    assert login(client, make_user("rep").email).status_code == 429


def test_uploaded_files_download_as_attachments(client, login_as, make_asset, sample_files):
    item = make_asset(upload=(sample_files.pdf(), "brochure.pdf"))
    login_as("rep")
    with client.get(f"/assets/{item.id}/download") as response:
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    with client.get(f"/assets/{item.id}/thumbnail") as thumbnail:
        assert thumbnail.mimetype == "image/png"


def test_error_pages_are_in_the_sites_style(client, login_as, make_asset):
    login_as("rep")
    for url, code in (("/no-such-page", 404), ("/manage/", 403)):
        response = client.get(url)
        page = response.get_data(as_text=True)
        assert response.status_code == code and 'class="error-page"' in page and "Back to the library" in page
    assert post_form(client, "/logout").status_code == 302
