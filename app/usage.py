"""The usage-event log: writing events and the queries that read them."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Iterable

from sqlalchemy import func, insert, select

from .extensions import db
from .models import UsageEvent, utcnow

log = logging.getLogger(__name__)

EVENT_KINDS = (
    "view", "download", "copy", "search", "search_click", "customize",
    "share", "share_open", "rate", "flag",
)
# The interactions that count as a rep using an asset.
USE_KINDS = ("view", "download", "copy", "customize", "share")


def event_row(kind: str, *, user=None, asset=None, version=None, at: datetime | None = None,
              **context) -> dict:
    """One event as a plain row, ready for `record`."""
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown usage event kind {kind!r}")
    return {
        "created_at": at or utcnow(),
        "kind": kind,
        "user_id": getattr(user, "id", None),
        "team_id": getattr(user, "team_id", None),
        "asset_id": getattr(asset, "id", asset if isinstance(asset, int) else None),
        "version_id": getattr(version, "id", None),
        "context": {k: v for k, v in context.items() if v is not None},
    }


def record(rows: Iterable[dict]) -> int:
    """Insert events on a connection of their own, apart from the request's session."""
    rows = list(rows)
    if rows:
        with db.engine.begin() as connection:
            connection.execute(insert(UsageEvent), rows)
    return len(rows)


def log_event(kind: str, **fields) -> int | None:
    """Record one interaction and return its id; a failure is logged, never raised."""
    try:
        with db.engine.begin() as connection:
            return connection.execute(
                insert(UsageEvent).returning(UsageEvent.id), [event_row(kind, **fields)]).scalar_one()
    except Exception:  # the log must not break the action it describes
        log.exception("could not record %s event", kind)
        return None


def use_counts(asset_ids: list[int], days: int | None = None) -> dict[int, int]:
    """Number of uses per asset, over all time or the last `days` days."""
    if not asset_ids:
        return {}
    query = (
        select(UsageEvent.asset_id, func.count())
        .where(UsageEvent.asset_id.in_(asset_ids), UsageEvent.kind.in_(USE_KINDS))
        .group_by(UsageEvent.asset_id)
    )
    if days is not None:
        query = query.where(UsageEvent.created_at >= utcnow() - timedelta(days=days))
    return dict(db.session.execute(query).all())


def most_used(candidate_filter, days: int, limit: int) -> list[tuple[int, int]]:
    """(asset id, uses) of the most used assets in the last `days` days among `candidate_filter`."""
    since = utcnow() - timedelta(days=days)
    query = (
        select(UsageEvent.asset_id, func.count().label("uses"))
        .where(UsageEvent.kind.in_(USE_KINDS), UsageEvent.created_at >= since,
               UsageEvent.asset_id.in_(candidate_filter))
        .group_by(UsageEvent.asset_id)
        .order_by(func.count().desc(), UsageEvent.asset_id)
        .limit(limit)
    )
    return [(row.asset_id, row.uses) for row in db.session.execute(query)]
