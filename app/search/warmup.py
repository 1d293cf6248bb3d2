"""A web worker's search, warmed before its first request (gunicorn's `post_worker_init`).

A new worker opens the index's segments (their prepared columns: milliseconds), reads the postings of
the words it is asked for, and compiles the page's database statements the first time it meets them:
a first search costs several times a later one. `warm()` pays that before the worker accepts
requests, with the page path itself on the library's most searched texts of late, one worker at a
time (a lock file in the data directory: workers started together warm one after another rather
than all reading at once; one that waits too long starts cold). It never rebuilds: a missing or
damaged index is left to the rebuild job the first search queues.
"""
from __future__ import annotations

import fcntl
import logging
import time
from collections import Counter

from flask import current_app
from flask_login import AnonymousUserMixin
from sqlalchemy import select

from app.extensions import db
from app.models import UsageEvent
from app.search import index
from app.search.backend import NeedsRebuild, Unreadable
from app.search.service import build_request, run_search

log = logging.getLogger(__name__)

QUERIES = 5  # searches answered while warming
RECENT = 2000  # of the latest searches logged, the most frequent texts are warmed
LOCK_WAIT_S = 20.0  # a worker waits this long for another's warm-up, then starts cold


def popular(limit: int = QUERIES) -> list[str]:
    """The most frequent texts among the latest searches (a new library: its newest assets' titles)."""
    texts = db.session.scalars(select(UsageEvent.context["query"].as_string())
                               .where(UsageEvent.kind == "search").order_by(UsageEvent.id.desc()).limit(RECENT))
    found = [text for text, _ in Counter(t.strip().lower() for t in texts if t and t.strip()).most_common(limit)]
    if not found:
        from app.models import Asset

        found = list(db.session.scalars(select(Asset.title).order_by(Asset.updated_at.desc()).limit(limit)))
    return found


def warm(texts: list[str] | None = None) -> float | None:
    """Answer a few searches as a rep would, unlogged; the seconds it took, or None when skipped (no
    usable index, or another worker warming for too long)."""
    if not current_app.config.get("SEARCH_WARM", True):
        return None
    started = time.perf_counter()
    path = current_app.config["DATA_DIR"] / "search-warming.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as lock:
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.perf_counter() - started > LOCK_WAIT_S:
                    log.info("search warm-up skipped: other workers are still warming")
                    return None
                time.sleep(0.05)
        try:
            return _warm(texts, started)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _warm(texts: list[str] | None, started: float) -> float | None:
    try:
        index.backend().vocabulary()  # opens the index without `using`: nothing here queues or runs a rebuild
    except (NeedsRebuild, Unreadable):
        return None
    user = AnonymousUserMixin()  # what a rep sees: live assets only
    # A request context: should the index fail meanwhile, `using` queues the rebuild job as for a
    # request (and the search answers from the database) instead of rebuilding here.
    with current_app.test_request_context("/search"):
        for text in texts if texts is not None else popular():
            run_search(user, build_request(user, text=text), log=False)
    db.session.remove()
    took = time.perf_counter() - started
    log.info("search warmed in %.2f s", took)
    return took
