"""The index's life: which backend serves this app, rebuilding it, checking it against the
database, and catching it up with the outbox. A backend that reports its index unusable
(`NeedsRebuild`) is rebuilt from the database here, and the call tried once more."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from flask import Flask, current_app
from sqlalchemy.orm import Session

from app.extensions import db
from app.search import outbox
from app.search.backend import Backend, NeedsRebuild, Progress
from app.search.documents import every_document
from app.search.whoosh.backend import WhooshBackend

T = TypeVar("T")


def init_app(app: Flask) -> None:
    """Give the app its backend and keep the index following commits."""
    app.extensions["search"] = WhooshBackend(app.config["DATA_DIR"] / "search-index",
                                             app.config["SEARCH_CACHE_MB"], app.config["SEARCH_BUILD_MB"])
    outbox.follow_commits(sync)


def backend() -> Backend:
    return current_app.extensions["search"]


def using(call: Callable[[Backend], T]) -> T:
    """`call(backend)`, rebuilding a missing or damaged index first when the backend asks for it."""
    try:
        return call(backend())
    except NeedsRebuild:
        rebuild()
        return call(backend())


def rebuild(progress: Progress | None = None) -> int:
    """Build the index afresh from the database, then apply what was queued meanwhile."""
    with Session(db.engine) as session:
        documents, total = every_document(session)
        count = backend().rebuild(documents, total, progress)
    outbox.drain(backend())
    return count


def sync() -> int:
    """Apply queued changes now; returns how many assets were written."""
    return using(outbox.drain)


@dataclass
class Drift:
    missing: list[int] = field(default_factory=list)
    extra: list[int] = field(default_factory=list)
    stale: list[int] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.missing or self.extra or self.stale)


def check() -> Drift:
    """Compare every asset's fingerprint in the database with the index."""
    indexed = using(lambda b: b.fingerprints())
    with Session(db.engine) as session:
        expected = {d.id: d.fingerprint for d in every_document(session)[0]}
    return Drift(
        missing=sorted(set(expected) - set(indexed)),
        extra=sorted(set(indexed) - set(expected)),
        stale=sorted(i for i in set(expected) & set(indexed) if expected[i] != indexed[i]),
    )
