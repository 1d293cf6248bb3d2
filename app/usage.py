"""The usage-event log: writing events and the queries that read them.

Requests never wait on the database to log: `log_event` appends a row to this process's
`EventWriter`, whose thread inserts them in batches every `USAGE_FLUSH_MS` (or at
`USAGE_BATCH` rows). A clean shutdown (SIGTERM to a gunicorn worker, Ctrl-C, `flask`
commands ending) flushes what is pending; if the database cannot be reached then, the rows go
to a spool file in the data directory and are inserted at the next start. A crash (SIGKILL,
power loss) loses at most the events of the last flush interval.
"""
from __future__ import annotations

import atexit
import json
import logging
import os
import threading
import time as clock
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import case, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from app import rollups
from app.extensions import db
from app.models import CONTENT_WRITERS, DealAsset, UsageEvent, utcnow

# What each event means (a use, sent, buyer engagement, a working session, ignored): defined beside the
# event's model, where the summaries' writer (app/rollups.py) reads them too; named here as ever.
from app.models.usage import BUYER_KINDS as BUYER_KINDS
from app.models.usage import EVENT_KINDS as EVENT_KINDS
from app.models.usage import IGNORE_GRACE_DAYS as IGNORE_GRACE_DAYS
from app.models.usage import SENT_KINDS as SENT_KINDS
from app.models.usage import SESSION_GAP as SESSION_GAP
from app.models.usage import USE_KINDS as USE_KINDS

log = logging.getLogger(__name__)


def last_days(days: int, today: date | None = None) -> tuple[datetime, datetime]:
    """"The last `days` days": that many whole UTC days, today included, as a half-open [start, end)."""
    day = today or utcnow().date()
    return (datetime.combine(day - timedelta(days=days - 1), time()), datetime.combine(day + timedelta(days=1), time()))
SPOOL_GLOB = "usage-spool-*.jsonl"


def event_row(kind: str, *, user=None, asset=None, version=None, at: datetime | None = None,
              search_id: str | None = None, opportunity=None, **context) -> dict:
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
        "search_id": search_id,
        "opportunity_id": getattr(opportunity, "id", opportunity if isinstance(opportunity, int) else None),
        "context": {k: v for k, v in context.items() if v is not None},
    }


def record(rows: Iterable[dict]) -> int:
    """Insert events now, on a connection of their own (imports, demo history, the writer), and fold
    them into `deal_asset` (those naming a deal and an asset) and the insights summaries
    (`app/rollups.py`) in the same transaction."""
    rows = list(rows)
    if rows:
        with db.engine.begin() as connection:
            connection.execution_options(usage_writer=True)  # tells the writer's statements apart (tests)
            rollups.lock(connection)
            ids: list[int] = []
            if rollups.needs_ids(rows):  # a search or click to recount: which rows are this batch's
                ids = connection.execute(insert(UsageEvent).returning(UsageEvent.id), rows).scalars().all()
            else:  # RETURNING costs the writer about half its throughput (bench/README.md)
                connection.execute(insert(UsageEvent), rows)
            for statement in deal_asset_upserts(connection.dialect.name, rows):
                connection.execute(statement)
            rollups.fold(connection, rows, ids)
    return len(rows)


def deal_asset_upserts(dialect_name: str, rows: list[dict]) -> list:
    """INSERT … ON CONFLICT statements (one per 1,000 pairs): each (deal, asset) pair's earliest send, earliest buyer
    open and number of uses among `rows`, merged with what `deal_asset` already holds."""
    found: dict[tuple[int, int], dict] = {}
    for row in rows:
        kind = row["kind"]
        if row.get("opportunity_id") is None or row.get("asset_id") is None:
            continue
        key = (row["opportunity_id"], row["asset_id"])
        pair = found.setdefault(key, {"opportunity_id": key[0], "asset_id": key[1], "first_sent_at": None,
                                      "first_opened_at": None, "uses": 0})
        column = "first_sent_at" if kind in SENT_KINDS else "first_opened_at" if kind in BUYER_KINDS else None
        if column and (pair[column] is None or row["created_at"] < pair[column]):
            pair[column] = row["created_at"]
        pair["uses"] += kind in USE_KINDS
    if not found:
        return []
    pairs, table = list(found.values()), DealAsset.__table__.c
    statements = []
    for start in range(0, len(pairs), 1000):  # 5 parameters a pair: within SQLite's limit
        statement = (postgresql if dialect_name == "postgresql" else sqlite).insert(DealAsset).values(
            pairs[start:start + 1000])
        new = statement.excluded

        def earliest(column, new=new):
            return case((new[column].is_(None), table[column]),
                        (table[column].is_(None) | (new[column] < table[column]), new[column]), else_=table[column])
        statements.append(statement.on_conflict_do_update(index_elements=["opportunity_id", "asset_id"], set_={
            "first_sent_at": earliest("first_sent_at"), "first_opened_at": earliest("first_opened_at"),
            "uses": table.uses + new.uses}))
    return statements


def rebuild_deal_assets() -> int:
    """Recount `deal_asset` from the whole log (what migration 0016 does; for data loaded around the
    writer, as the benchmark does). Returns the number of rows."""
    sent = case((UsageEvent.kind.in_(SENT_KINDS), UsageEvent.created_at))
    opened = case((UsageEvent.kind.in_(BUYER_KINDS), UsageEvent.created_at))
    with db.engine.begin() as connection:
        connection.execute(delete(DealAsset))
        connection.execute(insert(DealAsset).from_select(
            ["opportunity_id", "asset_id", "first_sent_at", "first_opened_at", "uses"],
            select(UsageEvent.opportunity_id, UsageEvent.asset_id, func.min(sent), func.min(opened),
                   func.count(case((UsageEvent.kind.in_(USE_KINDS), 1))))
            .where(UsageEvent.opportunity_id.isnot(None), UsageEvent.asset_id.isnot(None))
            .group_by(UsageEvent.opportunity_id, UsageEvent.asset_id)))
        return connection.execute(select(func.count()).select_from(DealAsset)).scalar_one()


def log_event(kind: str, **fields) -> None:
    """Record one interaction; costs the request an append, never an error."""
    try:
        current_app.extensions["usage_log"].emit(event_row(kind, **fields))
    except Exception:  # the log must not break the action it describes
        log.exception("could not record %s event", kind)


def log_use(kind: str, *, user, **fields) -> None:
    """Record a rep's or manager's view, download or copy of an asset. Marketers and admins open
    assets to maintain them, which is not the use insights measure: publishing an asset (and
    landing on its page) must not make it "used"."""
    if not user.has_role(*CONTENT_WRITERS):
        log_event(kind, user=user, **fields)


def flush() -> int:
    """Write every event logged so far in this process; returns how many were written."""
    return current_app.extensions["usage_log"].flush()


class EventWriter:
    """Buffers events in memory and inserts them in batches on a thread of its own."""

    def __init__(self, app: Flask, interval: float, batch: int):
        self.app, self.interval, self.batch = app, interval, batch
        self.spool_dir = Path(app.config["DATA_DIR"])
        self._pid = None
        self._start()

    def _start(self) -> None:
        """(Re)initialise locks and buffer; after a fork the parent's thread does not exist here."""
        self._pid = os.getpid()
        self._pending: list[dict] = []
        self._ready = threading.Condition()
        self._writing = threading.Lock()  # taking rows and inserting them happen under it
        self._thread: threading.Thread | None = None
        self._closed = False
        self._spool_replayed = False

    def emit(self, row: dict) -> None:
        if self._pid != os.getpid():
            self._start()
        with self._ready:
            self._pending.append(row)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="usage-log", daemon=True)
                self._thread.start()
            if len(self._pending) >= self.batch:
                self._ready.notify()

    def flush(self) -> int:
        """Insert everything emitted before this call; returns the number of rows inserted."""
        if self._pid != os.getpid():
            return 0
        with self._writing:
            return self._write_pending(all_rows=True)

    def close(self) -> None:
        """Flush and stop; rows the database refuses now are spooled to disk for the next start."""
        if self._pid != os.getpid() or self._closed:
            return
        self._closed = True
        with self._ready:
            self._ready.notify()
        try:
            self.flush()
        except Exception:
            log.exception("usage log: database unavailable at shutdown; spooling events")
        with self._writing, self._ready:
            rows, self._pending = self._pending, []
        if rows:
            self._spool(rows)

    def _run(self) -> None:
        failures = 0
        while not self._closed:
            with self._ready:
                self._ready.wait_for(lambda: len(self._pending) >= self.batch or self._closed,
                                     timeout=self.interval * (2 ** min(failures, 4)))
            try:
                with self._writing:
                    self._write_pending(all_rows=False)
                failures = 0
            except Exception:
                failures += 1  # rows went back to the buffer: retried with backoff
                log.warning("usage log: insert failed (%d in a row); will retry", failures, exc_info=True)

    def _write_pending(self, all_rows: bool) -> int:
        """Take rows from the buffer and insert them; on failure they go back, in order."""
        if not self._spool_replayed:
            self._spool_replayed = True
            self._replay_spool()
        written = 0
        while True:
            with self._ready:
                size = len(self._pending) if all_rows else min(len(self._pending), self.batch * 10)
                rows, self._pending = self._pending[:size], self._pending[size:]
            if not rows:
                return written
            try:
                with self.app.app_context():
                    record(rows)
            except Exception:
                with self._ready:
                    self._pending[:0] = rows
                raise
            written += len(rows)
            if not all_rows:
                return written

    def _spool(self, rows: list[dict]) -> None:
        path = self.spool_dir / f"usage-spool-{os.getpid()}-{clock.time_ns()}.jsonl"
        with path.open("w") as fh:
            for row in rows:
                fh.write(json.dumps({**row, "created_at": row["created_at"].isoformat()}) + "\n")
        log.error("usage log: %d events spooled to %s", len(rows), path)

    def _replay_spool(self) -> None:
        """Insert events a previous process spooled at shutdown, then remove the files."""
        for path in sorted(self.spool_dir.glob(SPOOL_GLOB)):
            claimed = path.with_suffix(".replaying")
            try:
                path.rename(claimed)  # only one worker replays a given file
            except OSError:
                continue
            rows = [json.loads(line) for line in claimed.read_text().splitlines() if line]
            for row in rows:
                row["created_at"] = datetime.fromisoformat(row["created_at"])
            try:
                with self.app.app_context():
                    record(rows)
                claimed.unlink()
            except Exception:
                claimed.rename(path)
                log.exception("usage log: could not replay %s", path)


def init_app(app: Flask) -> None:
    """Give the app its event writer; it is flushed when the process exits cleanly."""
    writer = EventWriter(app, app.config["USAGE_FLUSH_MS"] / 1000, app.config["USAGE_BATCH"])
    app.extensions["usage_log"] = writer
    atexit.register(writer.close)


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
        start, end = last_days(days)
        query = query.where(UsageEvent.created_at >= start, UsageEvent.created_at < end)
    return dict(db.session.execute(query).all())


def most_used(candidate_filter, days: int, limit: int) -> list[tuple[int, int]]:
    """(asset id, uses) of the most used assets in the last `days` days among `candidate_filter`."""
    since, end = last_days(days)
    query = (
        select(UsageEvent.asset_id, func.count().label("uses"))
        .where(UsageEvent.kind.in_(USE_KINDS), UsageEvent.created_at >= since, UsageEvent.created_at < end,
               UsageEvent.asset_id.in_(candidate_filter))
        .group_by(UsageEvent.asset_id)
        .order_by(func.count().desc(), UsageEvent.asset_id)
        .limit(limit)
    )
    return [(row.asset_id, row.uses) for row in db.session.execute(query)]
