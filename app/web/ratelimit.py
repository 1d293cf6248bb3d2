"""Fixed-window counting in the database, so every worker shares the same count.

Each count is one `INSERT … ON CONFLICT DO UPDATE SET hits = hits + 1 RETURNING hits`: concurrent
requests each get their own number, so a limit of 10 lets exactly 10 through, however many arrive
at once (checking first and counting afterwards let 12 through).
"""
from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from flask import current_app
from sqlalchemy import Connection, delete, update

from app.database import upsert
from app.extensions import db
from app.models import RateLimitWindow

T = TypeVar("T")
# Unknown tokens per client per minute (share links and deal rooms together): a token scan stops here.
TOKEN_SCAN_LIMIT = (120, 60)


@dataclass(frozen=True)
class Admission:
    """Attempts counted by `admit`, in one window, that `release` can give back."""

    keys: tuple[str, ...]
    window: int


def hit(key: str, limit: int, per_seconds: int) -> bool:
    """Count one request for `key`; False when it is over `limit` in the current window."""
    return count(key, per_seconds) <= limit


def count(key: str, per_seconds: int) -> int:
    """Add one to `key`'s count in the current window; returns the new count."""
    window = int(time.time() // per_seconds)
    with db.engine.begin() as connection:
        return _add_one(connection, key, window)


def admit(limits: dict[str, int], per_seconds: int) -> Admission | None:
    """Count one attempt against every key's limit, all or none: None (nothing counted) when any
    key has reached its limit in the current window.

    The counts and the check are one transaction: a refused attempt is rolled back, so it takes no
    place that a later attempt could have had.
    """
    window = int(time.time() // per_seconds)
    with db.engine.connect() as connection:
        transaction = connection.begin()
        for key, limit in limits.items():  # always in the caller's order: no two attempts deadlock
            if _add_one(connection, key, window) > limit:
                transaction.rollback()
                return None
        transaction.commit()
    return Admission(tuple(limits), window)


def release(admission: Admission) -> None:
    """Give back the attempts of an admission (a login that succeeded is not a failure)."""
    with db.engine.begin() as connection:
        for key in admission.keys:
            connection.execute(update(RateLimitWindow)
                               .where(RateLimitWindow.key == key[:120], RateLimitWindow.window == admission.window,
                                      RateLimitWindow.hits > 0)
                               .values(hits=RateLimitWindow.hits - 1))


def over(key: str, limit: int, per_seconds: int) -> bool:
    """Whether `key` has already reached `limit` in the current window (counts nothing)."""
    window = int(time.time() // per_seconds)
    hits = db.session.scalar(db.select(RateLimitWindow.hits).where(RateLimitWindow.key == key[:120],
                                                                   RateLimitWindow.window == window))
    return (hits or 0) >= limit


def _add_one(connection: Connection, key: str, window: int) -> int:
    statement = upsert(RateLimitWindow, {"key": key[:120], "window": window, "hits": 1}, ["key", "window"],
                       {"hits": RateLimitWindow.hits + 1}).returning(RateLimitWindow.hits)
    hits = connection.execute(statement).scalar_one()
    if hits == 1 and window % 16 == 0:
        # Now and then, forget this kind's windows long past. Only this kind's: window numbers of
        # another length (a minute, 15 minutes) are not comparable, and a share scan must not wipe
        # the login counts.
        kind = key.split(":", 1)[0] + ":"
        connection.execute(delete(RateLimitWindow).where(RateLimitWindow.key.startswith(kind, autoescape=True),
                                                         RateLimitWindow.window < window - 16))
    return hits


def private_key(kind: str, value: str) -> str:
    """A rate-limit key that does not store `value` (an address, an email) in clear."""
    secret = current_app.config["SECRET_KEY"].encode()
    return f"{kind}:{hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()[:32]}"


def by_token(find: Callable[[str], T | None], token: str, client: str, view_kind: str,
             view_limit: tuple[int, int]) -> tuple[T | None, int]:
    """What a public token (a share link's, a deal room's) names, behind two limits: `(found, 200)`,
    `(None, 404)` for an unknown token, `(…, 429)` over a limit. Only unknown tokens count towards a
    client's scan limit, and a found object's requests are counted per client under `view_kind`: a
    scanner, or one client hammering a link, never locks it for its other viewers."""
    scanner = private_key("share-scan", client)
    if over(scanner, *TOKEN_SCAN_LIMIT):
        return None, 429
    found = find(token)
    if found is None:
        return None, 404 if hit(scanner, *TOKEN_SCAN_LIMIT) else 429
    if not hit(private_key(view_kind, f"{found.id}:{client}"), *view_limit):
        return found, 429
    return found, 200
