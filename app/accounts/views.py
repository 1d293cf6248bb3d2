"""Logging in and out, and each user's own profile with personal API tokens."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.accounts import service as accounts
from app.accounts.forms import LoginForm, PasswordChangeForm, TokenForm
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
    if form.validate_on_submit():
        result = accounts.log_in(form.email.data, form.password.data, request.remote_addr or "",
                                 request.cookies.get(accounts.DEVICE_COOKIE))
        if result.throttled:
            minutes = current_app.config["LOGIN_WINDOW_S"] // 60
            flash(f"Too many failed attempts. Try again in {minutes} minutes, or ask an admin to reset "
                  "your password.", "error")
            return render_template("auth/login.html", form=form), 429
        if result.user is not None:
            login_user(result.user)
            flash(f"Welcome back, {result.user.name}.", "success")
            response = redirect(safe_next(form.next.data) or url_for("library.home"))
            response.set_cookie(accounts.DEVICE_COOKIE, result.device_cookie, max_age=accounts.DEVICE_DAYS * 86400,
                                path=url_for("auth.login"), httponly=True, samesite="Lax",
                                secure=current_app.config["SESSION_COOKIE_SECURE"])
            return response
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


def profile_page(**context):
    context = {"form": TokenForm(), "password_form": PasswordChangeForm(), **context}
    return render_template("auth/profile.html", tokens=accounts.api_tokens_of(current_user), action=ActionForm(),
                           **context)


@bp.route("/profile")
@roles_required(*EVERYONE)
def profile():
    return profile_page()


@bp.post("/profile/password")
@roles_required(*EVERYONE)
def change_password():
    """Change my password: every other session ends and every API token is revoked; this one goes on."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            revoked = accounts.change_own_password(current_user, form.current.data, form.password.data)
        except accounts.AccountError as exc:
            flash(str(exc), "error")
        else:
            login_user(current_user._get_current_object())  # this session, under the new session token
            flash(f"Password changed. Your other sessions ended{tokens_revoked(revoked)}.", "success")
            return redirect(url_for("auth.profile"))
    for errors in form.errors.values():
        flash("; ".join(errors), "error")
    return profile_page(password_form=form), 422


def tokens_revoked(count: int) -> str:
    return f" and your {count} API token{' was' if count == 1 else 's were'} revoked" if count else ""


@bp.post("/profile/tokens")
@roles_required(*EVERYONE)
def create_token():
    form = TokenForm()
    if not form.validate_on_submit():
        flash("Give the token a name.", "error")
        return redirect(url_for("auth.profile"))
    secret = accounts.issue_api_token(current_user, form.name.data)
    flash("Token created. Copy it now: it will not be shown again.", "success")
    return profile_page(form=TokenForm(formdata=None), new_secret=secret)


@bp.post("/profile/tokens/<int:token_id>/revoke")
@roles_required(*EVERYONE)
def revoke_token(token_id: int):
    if ActionForm().validate_on_submit() and accounts.revoke_api_token(current_user, token_id):
        flash("Token revoked. Anything using it is now refused.", "success")
    else:
        flash("That token could not be revoked.", "error")
    return redirect(url_for("auth.profile"))
