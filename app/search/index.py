"""The index's life: which backend serves this app, rebuilding it, checking it against the
database, and catching it up with the outbox.

A backend that reports its index unusable (`NeedsRebuild`: missing, of an old schema, too damaged
to open) is rebuilt from the database here, and the call tried once more. One that fails while
reading (`Unreadable`: a damaged part found by a query) is rebuilt in the background, by one
thread per process, while the caller answers from elsewhere.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from flask import Flask, current_app
from sqlalchemy.orm import Session

from app.extensions import db
from app.search import outbox
from app.search.backend import Backend, NeedsRebuild, Progress, Unreadable
from app.search.documents import SAMPLE, Boilerplate, every_document, sampled_documents
from app.search.postgres.backend import PostgresBackend
from app.search.whoosh.backend import WhooshBackend

T = TypeVar("T")
log = logging.getLogger(__name__)
_repair_lock = threading.Lock()
_repair_thread: threading.Thread | None = None


BACKENDS = ("whoosh", "postgres")


def backend_name(config: Mapping) -> str:
    """BRIDGE_SEARCH_BACKEND, whoosh by default: the postgres backend answers correctly on every node but
    does not yet meet the speed targets (page p95 134–222 ms at 10k against Whoosh's 56–68 ms in the
    same run, bench/README.md), so a PostgreSQL install opts in to it."""
    on_postgres = str(config["SQLALCHEMY_DATABASE_URI"]).startswith("postgresql")
    chosen = config.get("SEARCH_BACKEND") or "whoosh"
    if chosen not in BACKENDS:
        raise ValueError(f"BRIDGE_SEARCH_BACKEND must be one of {', '.join(BACKENDS)}, not {chosen!r}")
    if chosen == "postgres" and not on_postgres:
        raise ValueError("BRIDGE_SEARCH_BACKEND=postgres needs a PostgreSQL database (BRIDGE_DATABASE_URL)")
    return chosen


def init_app(app: Flask) -> None:
    """Give the app its backend; the Whoosh index follows commits through the outbox, the
    PostgreSQL backend's rows are written by the database's triggers in the writer's transaction."""
    if backend_name(app.config) == "postgres":
        app.extensions["search"] = PostgresBackend()
        app.extensions["search_outbox"] = False
    else:
        app.extensions["search"] = WhooshBackend(app.config["DATA_DIR"] / "search-index",
                                                 app.config["SEARCH_CACHE_MB"], app.config["SEARCH_BUILD_MB"],
                                                 app.config["SEARCH_QUERY_CACHE_MB"])
        app.extensions["search_outbox"] = True
    outbox.follow_commits(sync)


def backend() -> Backend:
    return current_app.extensions["search"]


def using(call: Callable[[Backend], T]) -> T:
    """`call(backend)`, rebuilding a missing or damaged index first when the backend asks for it;
    a part found unreadable is repaired in the background and `Unreadable` passed on."""
    try:
        return call(backend())
    except NeedsRebuild:
        rebuild()
        return call(backend())
    except Unreadable:
        log.exception("search index damaged; rebuilding it in the background")
        repair_soon()
        raise


def repair_soon() -> None:
    """Rebuild the index in a background thread, unless this process is already doing so."""
    global _repair_thread
    if not _repair_lock.acquire(blocking=False):
        return
    app = current_app._get_current_object()

    def repair():
        try:
            with app.app_context():
                rebuild()
        except Exception:  # logged; the next read error tries again
            log.exception("search index repair failed")
        finally:
            _repair_lock.release()

    _repair_thread = threading.Thread(target=repair, name="search-repair", daemon=True)
    _repair_thread.start()


def wait_for_repair(timeout: float = 120.0) -> None:
    """Wait for a repair this process started (tests, and `flask search check`)."""
    if _repair_thread is not None:
        _repair_thread.join(timeout)


def rebuild(progress: Progress | None = None) -> int:
    """Build the index afresh from the database, then apply what was queued meanwhile."""
    with Session(db.engine) as session:
        documents, total = every_document(session)
        boilerplate = Boilerplate(total)
        count = backend().rebuild(boilerplate.seen(documents), total, progress,
                                  notes=lambda: {"boilerplate": boilerplate.lines()})
    outbox.drain(backend())
    return count


def refresh_notes() -> None:
    """Learn the library's boilerplate again (from a sample of its documents) without a rebuild:
    after an import, whose assets reached the index one by one."""
    boilerplate = Boilerplate()
    with Session(db.engine) as session:
        for _ in boilerplate.seen(sampled_documents(session, SAMPLE)):
            pass
    using(lambda b: b.write_notes({"boilerplate": boilerplate.lines()}))


def sync() -> int:
    """Apply queued changes now; returns how many assets were written."""
    return using(outbox.drain)


@dataclass
class Drift:
    missing: list[int] = field(default_factory=list)
    extra: list[int] = field(default_factory=list)
    stale: list[int] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # parts of the index that cannot be read

    @property
    def clean(self) -> bool:
        return not (self.missing or self.extra or self.stale or self.unreadable)


def check() -> Drift:
    """Read the whole index, then compare every asset's fingerprint in the database with it."""
    try:
        unreadable = backend().unreadable()
    except NeedsRebuild as exc:
        return Drift(unreadable=[f"the index cannot be opened: {exc}"])
    if unreadable:
        return Drift(unreadable=unreadable)
    indexed = using(lambda b: b.fingerprints())
    with Session(db.engine) as session:
        expected = {d.id: d.fingerprint for d in every_document(session)[0]}
    return Drift(
        missing=sorted(set(expected) - set(indexed)),
        extra=sorted(set(indexed) - set(expected)),
        stale=sorted(i for i in set(expected) & set(indexed) if expected[i] != indexed[i]),
    )
