"""People: users, teams, passwords, sessions and personal API tokens."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.database import transaction
from app.extensions import db
from app.models import ApiToken, Role, Team, User, utcnow
from app.web import ratelimit

TOKEN_PREFIX = "brg_"
TOKEN_USE_RESOLUTION = timedelta(minutes=5)


class AccountError(ValueError):
    """A user-facing reason why an account change was refused."""


def user_by_session_token(token: str) -> User | None:
    return db.session.scalar(select(User).where(User.session_token == token))


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _login_keys(email: str, address: str) -> tuple[str, str]:
    return (ratelimit.private_key("login-account", normalise_email(email)),
            ratelimit.private_key("login-client", address))


def login_throttled(email: str, address: str) -> bool:
    """Whether logins for this account, or from this address, failed too often in the current window.

    Counted in the database, so the limit holds across every worker. An address gets five times an
    account's allowance (several people behind one office address).
    """
    limit, window = current_app.config["LOGIN_MAX_FAILURES"], current_app.config["LOGIN_WINDOW_S"]
    account, client = _login_keys(email, address)
    return ratelimit.over(account, limit, window) or ratelimit.over(client, limit * 5, window)


def note_failed_login(email: str, address: str) -> None:
    window = current_app.config["LOGIN_WINDOW_S"]
    for key in _login_keys(email, address):
        ratelimit.count(key, window)


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None."""
    user = find_user(email)
    if user is None or not user.active or not user.check_password(password):
        return None
    with transaction():
        user.last_login_at = utcnow()
    return user


def end_session(user: User) -> None:
    """Invalidate every session cookie issued to `user`."""
    with transaction():
        user.rotate_session()


def get_or_create_team(name: str) -> Team:
    name = name.strip()
    team = db.session.scalar(select(Team).where(func.lower(Team.name) == name.lower()))
    if team is None:
        team = Team(name=name)
        db.session.add(team)
        db.session.flush()
    return team


def create_user(email: str, name: str, role: str, password: str, team: str | None = None) -> User:
    """Create a user; raises AccountError if the email is taken or the role unknown."""
    if find_user(email):
        raise AccountError(f"A user with email {normalise_email(email)} already exists.")
    if role not in {r.value for r in Role}:
        raise AccountError(f"Unknown role {role!r}.")
    with transaction():
        user = User(email=normalise_email(email), name=name.strip(), role=role)
        user.set_password(password)
        user.team = get_or_create_team(team) if team else None
        db.session.add(user)
    return user


def update_user(user: User, *, name: str, role: str, team_id: int | None, active: bool) -> None:
    """Change a user's profile; deactivation also ends their sessions."""
    with transaction():
        user.name = name.strip()
        user.role = Role(role).value
        user.team_id = team_id
        if user.active and not active:
            user.rotate_session()
        user.active = active


def reset_password(user: User, password: str) -> None:
    with transaction():
        user.set_password(password)
        user.rotate_session()


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).options(selectinload(User.team)).order_by(User.name)))


def list_teams() -> list[Team]:
    return list(db.session.scalars(select(Team).order_by(Team.name)))


def save_team(name: str, team: Team | None = None) -> Team:
    """Create a team or rename `team`; names are unique regardless of case."""
    name = name.strip()
    clash = db.session.scalar(select(Team).where(func.lower(Team.name) == name.lower()))
    if clash is not None and clash is not team:
        raise AccountError(f"A team named {name!r} already exists.")
    with transaction():
        team = team or Team()
        team.name = name
        db.session.add(team)
    return team


def issue_api_token(user: User, name: str) -> str:
    """Create a personal token and return its secret, which is shown once and never stored."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction():
        db.session.add(
            ApiToken(user=user, name=name.strip() or "API token",
                     token_hash=_hash(secret), prefix=secret[:12])
        )
    return secret


def revoke_api_token(user: User, token_id: int) -> bool:
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id or token.revoked_at:
        return False
    with transaction():
        token.revoked_at = utcnow()
    return True


def api_tokens_of(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc())
        )
    )


def user_by_api_token(secret: str) -> User | None:
    """The active owner of an unrevoked personal token, noting when the token was last used."""
    token = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == _hash(secret), ApiToken.revoked_at.is_(None))
    )
    if token is None or not token.user.active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > TOKEN_USE_RESOLUTION:
        with transaction():  # at most one write per token every few minutes, not per call
            token.last_used_at = now
    return token.user


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
