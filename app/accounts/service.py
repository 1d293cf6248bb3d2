"""People: users, teams, passwords, sessions and personal API tokens."""
from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload
from werkzeug.security import check_password_hash, generate_password_hash

from app.database import transaction
from app.extensions import db
from app.models import ApiToken, Role, Team, UsageEvent, User, utcnow
from app.web import ratelimit

TOKEN_PREFIX = "brg_"
TOKEN_USE_RESOLUTION = timedelta(minutes=5)
DEVICE_COOKIE = "bridge_device"
DEVICE_DAYS = 365
DEVICE_ACCOUNTS = 8  # accounts one browser remembers having logged in to
ADDRESS_FACTOR = 5   # an address may fail five times an account's allowance (an office behind one NAT)


class AccountError(ValueError):
    """A user-facing reason why an account change was refused."""


def user_by_session_token(token: str) -> User | None:
    return db.session.scalar(select(User).where(User.session_token == token))


def normalise_email(email: str) -> str:
    return email.strip().lower()


@dataclass(frozen=True)
class LoginResult:
    """What a login attempt came to: the user (logged in), throttled (429), or neither (wrong).
    `device_cookie` is the new value of the browser's device cookie after a success."""

    user: User | None = None
    throttled: bool = False
    device_cookie: str | None = None


def log_in(email: str, password: str, address: str, device_cookie: str | None) -> LoginResult:
    """Check a login within the failure limits, which are counted in the database across workers.

    Only failures count. A client unknown to the account may fail LOGIN_MAX_FAILURES times per
    window for the account and ADDRESS_FACTOR times that from its address; beyond, even the right
    password is refused. A browser holding a device cookie from an earlier login to this account
    (OWASP's "device cookies") is counted on its own instead: a guesser elsewhere, or a whole
    office's worth of typos behind one address, cannot lock the account's owner out.
    """
    limit, window = current_app.config["LOGIN_MAX_FAILURES"], current_app.config["LOGIN_WINDOW_S"]
    user = find_user(email)
    device = _device_key(device_cookie, user)
    if device is not None:
        limits = {device: limit}
    else:
        limits = {ratelimit.private_key("login-account", normalise_email(email)): limit,
                  ratelimit.private_key("login-client", address): limit * ADDRESS_FACTOR}
    admission = ratelimit.admit(limits, window)
    if admission is None:
        return LoginResult(throttled=True)
    if not _password_matches(user, password):
        return LoginResult()  # the failure stays counted
    ratelimit.release(admission)
    with transaction():
        user.last_login_at = utcnow()
    return LoginResult(user=user, device_cookie=_trusted_device(device_cookie, user))


def _password_matches(user: User | None, password: str) -> bool:
    """One password hash verified per attempt, whoever asks: an unknown email is checked against a
    dummy hash of the same method and cost, and a deactivated account against its own, so the
    time taken does not tell which emails have accounts (127 ms against 9 ms before)."""
    if user is None:
        check_password_hash(_dummy_hash(_hash_method()), password)
        return False
    return user.check_password(password) and user.active


def _hash_method() -> str:
    return current_app.config["PASSWORD_HASH_METHOD"]


@functools.cache
def _dummy_hash(method: str) -> str:
    return generate_password_hash(secrets.token_urlsafe(16), method)  # as create_user hashes


def _device_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="login-device")


def _account_tag(user: User) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"device-account:{user.id}".encode(), hashlib.sha256).hexdigest()[:16]


def _device(cookie: str | None) -> dict | None:
    """The signed content of a device cookie: {"d": the device's random id, "a": account tags}."""
    if not cookie:
        return None
    try:
        content = _device_signer().loads(cookie, max_age=DEVICE_DAYS * 86400)
    except BadSignature:
        return None
    valid = isinstance(content, dict) and isinstance(content.get("d"), str) and isinstance(content.get("a"), list)
    return content if valid else None


def _device_key(cookie: str | None, user: User | None) -> str | None:
    """The failure-count key of this browser for this account, if it logged in to it before."""
    device = _device(cookie)
    if user is None or device is None or _account_tag(user) not in device["a"]:
        return None
    return ratelimit.private_key("login-device", f"{device['d']}:{user.id}")


def _trusted_device(cookie: str | None, user: User) -> str:
    """The device cookie after `user` logged in from this browser (renewed: its age restarts)."""
    device = _device(cookie) or {"d": secrets.token_urlsafe(16), "a": []}
    tag = _account_tag(user)
    accounts = [t for t in device["a"] if t != tag][-(DEVICE_ACCOUNTS - 1):] + [tag]
    return _device_signer().dumps({"d": device["d"], "a": accounts})


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


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
        user.set_password(password, _hash_method())
        user.team = get_or_create_team(team) if team else None
        db.session.add(user)
    return user


def update_user(user: User, *, name: str, role: str, team_id: int | None, active: bool,
                actor: User | None = None) -> None:
    """Change a user's profile; deactivation also ends their sessions. Refused (AccountError, nothing
    changed) when it would leave no active admin, or when `actor` would deactivate themselves."""
    if role not in {r.value for r in Role}:
        raise AccountError(f"Unknown role {role!r}.")
    if actor is not None and actor.id == user.id and not active:
        raise AccountError("You cannot deactivate your own account: ask another admin.")
    keeps_admin = active and role == Role.ADMIN.value
    if user.active and user.role == Role.ADMIN.value and not keeps_admin:
        others = db.session.scalar(select(func.count()).select_from(User).where(
            User.role == Role.ADMIN.value, User.active.is_(True), User.id != user.id))
        if not others:
            raise AccountError(f"{user.name} is the only active admin: make someone else an admin first.")
    with transaction():
        user.name = name.strip()
        user.role = Role(role).value
        user.team_id = team_id
        if user.active and not active:
            user.rotate_session()
        user.active = active


def reset_password(user: User, password: str) -> int:
    """Set a new password, end every session and revoke every API token of `user` (whoever knew the
    old password may have made one); returns how many tokens were revoked."""
    with transaction():
        user.set_password(password, _hash_method())
        user.rotate_session()
        revoked = db.session.execute(
            update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())).rowcount
    return revoked


def change_own_password(user: User, current: str, new: str) -> int:
    """A user's own password change, proven by the current password (at most LOGIN_MAX_FAILURES
    wrong ones per window: a borrowed session must not become a way to guess it); as
    `reset_password`, it ends every session and revokes every token. Returns the tokens revoked."""
    limit, window = current_app.config["LOGIN_MAX_FAILURES"], current_app.config["LOGIN_WINDOW_S"]
    admission = ratelimit.admit({f"password-change:{user.id}": limit}, window)
    if admission is None:
        raise AccountError(f"Too many wrong passwords. Try again in {window // 60} minutes.")
    if not user.check_password(current):
        raise AccountError("Your current password is not that one.")
    ratelimit.release(admission)
    return reset_password(user, new)


def last_logins(users) -> dict[int, datetime | None]:
    """*Last login* (the README's glossary): when each person last signed in or, if later, last did
    anything in Bridge. A remembered session signs in once and is then seen only through its events,
    so the sign-in time alone would say "never" of someone using Bridge every day."""
    ids = [u.id for u in users]
    # One index lookup per person (usage_event's (user_id, created_at) index): a GROUP BY over the
    # people's events read all of them, 200 ms at a million events (bench/README.md, issue 21).
    newest = select(func.max(UsageEvent.created_at)).where(UsageEvent.user_id == User.id).scalar_subquery()
    latest = select(User.id, newest).where(User.id.in_(ids))
    seen = dict(db.session.execute(latest).all()) if ids else {}
    return {u.id: max((t for t in (u.last_login_at, seen.get(u.id)) if t is not None), default=None) for u in users}


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


def delete_team(team: Team) -> str:
    """Delete a team made by mistake: one nobody belongs to (active or not) and no event names.
    A team with a history is renamed instead, so the insights of its past stay whole."""
    name = team.name
    if db.session.scalar(select(func.count()).select_from(User).where(User.team_id == team.id)):
        raise AccountError(f"Team “{name}” has members: move them to another team first.")
    if db.session.scalar(select(UsageEvent.id).where(UsageEvent.team_id == team.id).limit(1)) is not None:
        raise AccountError(f"Team “{name}” has a history in the usage log: rename it instead.")
    with transaction():
        db.session.delete(team)
    return name


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
