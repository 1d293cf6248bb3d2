"""Fixed-window request counting in the database, so every worker shares the same count."""
from __future__ import annotations

import hashlib
import hmac
import time

from flask import current_app
from sqlalchemy import delete, select

from app.database import upsert
from app.extensions import db
from app.models import RateLimitWindow


def hit(key: str, limit: int, per_seconds: int) -> bool:
    """Count one request for `key`; False when it is over `limit` in the current window."""
    return count(key, per_seconds) <= limit


def count(key: str, per_seconds: int) -> int:
    """Add one to `key`'s count in the current window; returns the new count."""
    window = int(time.time() // per_seconds)
    statement = upsert(RateLimitWindow, {"key": key[:120], "window": window, "hits": 1}, ["key", "window"],
                       {"hits": RateLimitWindow.hits + 1}).returning(RateLimitWindow.hits)
    with db.engine.begin() as connection:
        hits = connection.execute(statement).scalar_one()
        if hits == 1 and window % 16 == 0:  # now and then, forget windows long past
            connection.execute(delete(RateLimitWindow).where(RateLimitWindow.window < window - 16))
    return hits


def over(key: str, limit: int, per_seconds: int) -> bool:
    """Whether `key` has already reached `limit` in the current window (counts nothing)."""
    window = int(time.time() // per_seconds)
    hits = db.session.scalar(select(RateLimitWindow.hits).where(RateLimitWindow.key == key[:120],
                                                                RateLimitWindow.window == window))
    return (hits or 0) >= limit


def private_key(kind: str, value: str) -> str:
    """A rate-limit key that does not store `value` (an address, an email) in clear."""
    secret = current_app.config["SECRET_KEY"].encode()
    return f"{kind}:{hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()[:32]}"
