"""Logging in and out, and each user's own profile with personal API tokens."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.accounts import service as accounts
from app.accounts.forms import LoginForm, TokenForm
from app.models import EVERYONE
from app.web.access import roles_required
from app.web.forms import ActionForm

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path inside this site, else None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(c in target for c in "\r\n\t"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Email and password login; `next` only ever leads inside the site."""
    if current_user.is_authenticated:
        return redirect(url_for("library.home"))
    form = LoginForm(next=request.args.get("next", ""))
    address = request.remote_addr or ""
    if form.validate_on_submit():
        if accounts.login_throttled(form.email.data, address):
            minutes = current_app.config["LOGIN_WINDOW_S"] // 60
            flash(f"Too many failed attempts. Try again in {minutes} minutes, or ask an admin to reset "
                  "your password.", "error")
            return render_template("auth/login.html", form=form), 429
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is not None:
            login_user(user)
            flash(f"Welcome back, {user.name}.", "success")
            return redirect(safe_next(form.next.data) or url_for("library.home"))
        accounts.note_failed_login(form.email.data, address)
        flash("Email or password is wrong, or the account is deactivated.", "error")
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    """End this session and every other copy of its cookie."""
    if ActionForm().validate_on_submit():
        accounts.end_session(current_user._get_current_object())
        logout_user()
        flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/profile")
@roles_required(*EVERYONE)
def profile():
    return render_template(
        "auth/profile.html", tokens=accounts.api_tokens_of(current_user),
        form=TokenForm(), action=ActionForm(),
    )


@bp.post("/profile/tokens")
@roles_required(*EVERYONE)
def create_token():
    form = TokenForm()
    if not form.validate_on_submit():
        flash("Give the token a name.", "error")
        return redirect(url_for("auth.profile"))
    secret = accounts.issue_api_token(current_user, form.name.data)
    flash("Token created. Copy it now: it will not be shown again.", "success")
    return render_template(
        "auth/profile.html", tokens=accounts.api_tokens_of(current_user),
        form=TokenForm(formdata=None), action=ActionForm(), new_secret=secret,
    )


@bp.post("/profile/tokens/<int:token_id>/revoke")
@roles_required(*EVERYONE)
def revoke_token(token_id: int):
    if ActionForm().validate_on_submit() and accounts.revoke_api_token(current_user, token_id):
        flash("Token revoked. Anything using it is now refused.", "success")
    else:
        flash("That token could not be revoked.", "error")
    return redirect(url_for("auth.profile"))
