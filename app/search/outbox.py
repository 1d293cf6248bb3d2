"""The index follows the database through an outbox.

Every flush that touches an asset, its versions or a taxonomy term's or stage's name writes `search_outbox`
rows in the same transaction, so a rolled-back change leaves none. After the commit the rows are
drained into the index; a row leaves only once the backend holds the change. A process that
finds the index busy (another worker writing) leaves its rows: the writer looks at the outbox
again once it is done, so every committed row is drained by its own committer or by the writer
of that moment, and rows survive any exit (`flask search sync` drains them too).
"""
from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import current_app, has_app_context
from sqlalchemy import delete, event, func, insert, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import Asset, AssetVersion, SearchOutbox, Stage, Term, asset_stage, asset_term, utcnow
from app.search.backend import Backend, Changes
from app.search.documents import documents_of

log = logging.getLogger(__name__)
BATCH = 2000
_after_commit_sync: Callable[[], object] | None = None
_batch: ContextVar[dict | None] = ContextVar("search_outbox_batch", default=None)


def follow_commits(sync: Callable[[], object]) -> None:
    """Queue index changes in every session's flushes, and call `sync` after a commit that queued some."""
    global _after_commit_sync
    _after_commit_sync = sync
    if not event.contains(Session, "after_flush", _queue_changes):
        event.listen(Session, "after_flush", _queue_changes)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)


def _queue_changes(session: Session, _flush_context) -> None:
    """Write outbox rows for every asset this flush touched, inside the same transaction (unless the
    app's backend needs none: PostgreSQL's rows are written by triggers)."""
    if has_app_context() and not current_app.extensions.get("search_outbox", True):
        return
    ids: set[int] = set()
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(obj, Asset) and obj.id is not None:
            ids.add(obj.id)
        elif isinstance(obj, AssetVersion) and obj.asset_id is not None:
            ids.add(obj.asset_id)
        elif isinstance(obj, (Term, Stage)) and obj in session.dirty and obj.id is not None:
            table, column = (asset_term, "term_id") if isinstance(obj, Term) else (asset_stage, "stage_id")
            ids.update(session.connection().scalars(select(table.c.asset_id).where(table.c[column] == obj.id)))
    if ids:
        session.connection().execute(insert(SearchOutbox), [{"asset_id": i, "created_at": utcnow()} for i in ids])
        session.info["search_pending"] = True


def _after_commit(session: Session) -> None:
    if session.info.pop("search_pending", False):
        batch = _batch.get()
        if batch is not None:
            if time.monotonic() - batch["synced"] < batch["every_s"]:
                return  # queued: drained by a later commit of the batch or when it ends
            batch["synced"] = time.monotonic()
        _sync_now()


def _sync_now() -> None:
    if _after_commit_sync is not None:
        try:
            _after_commit_sync()
        except Exception:  # the rows stay queued; the next writer or `flask search sync` drains them
            log.exception("search index update deferred")


@contextmanager
def batched(every_s: float = 2.0) -> Iterator[None]:
    """Within the block, commits update the index at most every `every_s` seconds, and once more at
    its end: an import of many rows makes a few index commits instead of one per row (each is a
    Whoosh segment), and its assets still appear in search as it goes. The queued rows are in the
    database, so a process that dies meanwhile loses nothing (the next writer drains them)."""
    token = _batch.set({"every_s": every_s, "synced": time.monotonic()})
    try:
        yield
    finally:
        _batch.reset(token)
        _sync_now()


def _after_rollback(session: Session) -> None:
    session.info.pop("search_pending", None)


def drain(backend: Backend) -> int:
    """Write queued changes into the index; returns how many assets were written.

    Outbox ids never repeat (AUTOINCREMENT), so deleting drained rows by id cannot touch rows
    queued meanwhile.
    """
    written = 0
    with Session(db.engine) as session:
        while session.scalar(select(SearchOutbox.id).limit(1)) is not None:
            rows: list = []
            if not backend.write(functools.partial(_read_changes, session, rows)):
                return written  # busy: the writer of the moment drains these once it is done
            session.execute(delete(SearchOutbox).where(SearchOutbox.id.in_([r.id for r in rows])))
            session.commit()
            written += len({r.asset_id for r in rows})
    return written


def _read_changes(session: Session, rows: list) -> Changes:
    """The next batch of queued rows (kept in `rows` for deleting once written) as changes."""
    rows.extend(session.execute(select(SearchOutbox.id, SearchOutbox.asset_id).order_by(SearchOutbox.id)
                                .limit(BATCH)).all())
    asset_ids = {r.asset_id for r in rows}
    upserts = documents_of(session, asset_ids)
    return upserts, sorted(asset_ids - {d.id for d in upserts})


def pending_count() -> int:
    with Session(db.engine) as session:
        return session.scalar(select(func.count()).select_from(SearchOutbox))
