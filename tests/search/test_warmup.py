"""A new web worker's warm-up (gunicorn's post_worker_init): popular searches answered before the first
request, one worker at a time, and never a rebuild of a missing index."""
from __future__ import annotations

import fcntl
import shutil

import pytest
from sqlalchemy import func, select

from app import search, usage
from app.extensions import db
from app.models import Job
from app.search import index, warmup

pytestmark = pytest.mark.backends("whoosh")


def test_the_warm_up_answers_the_popular_searches_and_never_rebuilds(app, make_asset, make_user, monkeypatch):
    make_asset("Plant downtime case study", body="Kessler cut unplanned downtime.")
    make_asset("Retail store brochure", body="Automate store opening checklists.")
    search.rebuild()
    rep = make_user("rep")
    for text in ["Downtime", "store", "downtime ", "store", "downtime", "pricing"]:
        usage.log_event("search", user=rep, search_id="s", query=text, results=1)
    app.extensions["usage_log"].flush()
    assert warmup.popular(2) == ["downtime", "store"]

    answered = []
    monkeypatch.setattr(warmup, "run_search", lambda user, req, log: answered.append((req.text, log)))
    index.backend().forget()
    assert warmup.warm() is not None and answered == [(t, False) for t in warmup.popular()]

    # Another worker holds the lock for longer than a worker waits: this one starts cold.
    monkeypatch.setattr(warmup, "LOCK_WAIT_S", 0.1)
    with open(app.config["DATA_DIR"] / "search-warming.lock", "a") as other:
        fcntl.flock(other, fcntl.LOCK_EX)
        assert warmup.warm() is None

    index.backend().reset()
    shutil.rmtree(app.config["DATA_DIR"] / "search-index")
    answered.clear()
    assert warmup.warm() is None and answered == []
    assert not (app.config["DATA_DIR"] / "search-index").exists()  # no rebuild here…
    assert db.session.scalar(select(func.count()).select_from(Job)) == 0  # …nor a job queued by the warm-up
