"""The index's life: which backend serves this app, rebuilding it, checking it against the
database, and catching it up with the outbox.

A backend that reports its index unusable (`NeedsRebuild`: missing, of an old schema, too damaged
to open) or fails while reading (`Unreadable`: a damaged part found by a query) is rebuilt from the
database by one job (`search_reindex`, however many requests find it so) run by a job worker;
meanwhile readers get `Unreadable` and the search service answers from the database, and writes
wait in the outbox, which the rebuild drains.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from flask import Flask, current_app, has_request_context
from sqlalchemy.orm import Session

from app import jobs
from app.extensions import db
from app.search import outbox
from app.search.backend import Backend, NeedsRebuild, Progress, Unreadable
from app.search.documents import SAMPLE, Boilerplate, every_document, sampled_documents
from app.search.postgres.backend import PostgresBackend
from app.search.whoosh.backend import WhooshBackend

T = TypeVar("T")
log = logging.getLogger(__name__)


BACKENDS = ("whoosh", "postgres")


def backend_name(config: Mapping) -> str:
    """BRIDGE_SEARCH_BACKEND; by default whoosh on SQLite and postgres on PostgreSQL (nothing on a
    node's disk, so any number of app servers; as fast as Whoosh there: bench/README.md)."""
    on_postgres = str(config["SQLALCHEMY_DATABASE_URI"]).startswith("postgresql")
    chosen = config.get("SEARCH_BACKEND") or ("postgres" if on_postgres else "whoosh")
    if chosen not in BACKENDS:
        raise ValueError(f"BRIDGE_SEARCH_BACKEND must be one of {', '.join(BACKENDS)}, not {chosen!r}")
    if chosen == "postgres" and not on_postgres:
        raise ValueError("BRIDGE_SEARCH_BACKEND=postgres needs a PostgreSQL database (BRIDGE_DATABASE_URL)")
    return chosen


def init_app(app: Flask) -> None:
    """Give the app its backend; the Whoosh index follows commits through the outbox, the
    PostgreSQL backend's rows are written by the database's triggers in the writer's transaction."""
    if backend_name(app.config) == "postgres":
        app.extensions["search"] = PostgresBackend(app.config["SEARCH_CACHE_MB"])
        app.extensions["search_outbox"] = False
    else:
        app.extensions["search"] = WhooshBackend(app.config["DATA_DIR"] / "search-index",
                                                 app.config["SEARCH_CACHE_MB"], app.config["SEARCH_BUILD_MB"],
                                                 app.config["SEARCH_QUERY_CACHE_MB"])
        app.extensions["search_outbox"] = True
    outbox.follow_commits(sync)


def backend() -> Backend:
    return current_app.extensions["search"]


def using(call: Callable[[Backend], T], *, writing: bool = False) -> T:
    """`call(backend)`; an index that is missing or damaged is rebuilt at once outside requests (the
    CLI, a job), else by a job while `Unreadable` is raised (a reader answers from the database; a
    writer's changes wait in the outbox). With JOBS_EAGER the job runs at once and the call is tried again."""
    try:
        return call(backend())
    except (NeedsRebuild, Unreadable) as exc:
        if not has_request_context() or (writing and current_app.config.get("JOBS_EAGER")):
            rebuild()  # what the job would do, here (a writer's session cannot run a job after its commit)
            return call(backend())
        log.warning("search index unusable (%s); rebuilding it in a job", exc)
        job_id = rebuild_soon(run_eagerly=not writing)
        if not writing and jobs.state_of(job_id) == "done":
            return call(backend())
        raise Unreadable(f"the search index is being rebuilt (job {job_id})") from exc


def rebuild_soon(*, run_eagerly: bool = True) -> int:
    """Queue the one rebuild of the index (or find the one queued); its job id."""
    return jobs.enqueue_once(REINDEX_JOB, "Rebuild the search index", run_eagerly=run_eagerly)


REINDEX_JOB = "search_reindex"


@jobs.task(REINDEX_JOB)
def run_reindex(run: jobs.Run) -> dict:
    """The job `rebuild_soon` queued: safe to run again (a rebuild swaps a fresh index in)."""
    count = rebuild(lambda done, total: run.progress(done, total, "Indexing assets", may_stop=False))
    return {"summary": f"Indexed {count} assets."}


def rebuild(progress: Progress | None = None) -> int:
    """Build the index afresh from the database, then apply what was queued meanwhile."""
    with Session(db.engine) as session:
        documents, total = every_document(session)
        boilerplate = Boilerplate(total)
        count = backend().rebuild(boilerplate.seen(documents), total, progress,
                                  notes=lambda: {"boilerplate": boilerplate.lines()})
    settle = getattr(backend(), "settle", None)  # the PostgreSQL backend's VACUUM, outside any reading transaction
    if settle:
        settle()
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
    """Apply queued changes now; returns how many assets were written (none while a rebuild waits:
    the rebuild drains them)."""
    try:
        return using(outbox.drain, writing=True)
    except Unreadable:
        return 0


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
