"""Flask-Login's hooks: who a session cookie or a bearer token belongs to, and where strangers go."""
from __future__ import annotations

from flask import Request, flash, redirect, request, url_for
from flask_login import LoginManager

from app.accounts import service
from app.models import User
from app.web.errors import api_error


def configure_login(manager: LoginManager) -> None:
    manager.login_view = "auth.login"
    manager.user_loader(service.user_by_session_token)
    manager.request_loader(user_from_bearer_token)
    manager.unauthorized_handler(_unauthorized)


def _unauthorized():
    """API callers get a JSON 401; people get the login page with `next`."""
    if request.path.startswith("/api/"):
        return api_error(401, "Authentication required: a session or an `Authorization: Bearer` token.")
    flash("Please log in to continue.", "info")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def user_from_bearer_token(req: Request) -> User | None:
    """Flask-Login request loader: `Authorization: Bearer brg_…` on API routes."""
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer ") or not req.path.startswith("/api/"):
        return None
    return service.user_by_api_token(header[7:].strip())
