"""Fixed-window request counting in the database, so every worker shares the same count."""
from __future__ import annotations

import time

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite

from .extensions import db
from .models import RateLimitWindow


def hit(key: str, limit: int, per_seconds: int) -> bool:
    """Count one request for `key`; False when it is over `limit` in the current window."""
    window = int(time.time() // per_seconds)
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    upsert = dialect.insert(RateLimitWindow).values(key=key[:120], window=window, hits=1)
    upsert = upsert.on_conflict_do_update(
        index_elements=["key", "window"], set_={"hits": RateLimitWindow.hits + 1}
    ).returning(RateLimitWindow.hits)
    with db.engine.begin() as connection:
        hits = connection.execute(upsert).scalar_one()
        if hits == 1 and window % 16 == 0:  # now and then, forget windows long past
            connection.execute(delete(RateLimitWindow).where(RateLimitWindow.window < window - 16))
    return hits <= limit
