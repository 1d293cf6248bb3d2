"""The usage log's writer: nothing lost on a clean exit, nothing lost when the database is away."""
from __future__ import annotations

import subprocess
import sys
import textwrap
import time

from sqlalchemy import func, select

from app import create_app, usage
from app.extensions import db
from app.models import UsageEvent

from . import databases
from .conftest import ROOT_DIR, app_config


def count(kind: str | None = None) -> int:
    query = select(func.count()).select_from(UsageEvent)
    return db.session.scalar(query.where(UsageEvent.kind == kind) if kind else query)


def test_events_logged_by_a_process_are_all_written_when_it_exits(app, tmp_path):
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT_DIR)!r})
        from pathlib import Path
        from app import create_app
        from app import usage
        data = Path({str(tmp_path)!r})
        app = create_app({{"DATA_DIR": data, "FILES_DIR": data / "files",
                          "USAGE_FLUSH_MS": 60000, "USAGE_BATCH": 100000,
                          "SQLALCHEMY_DATABASE_URI": {app.config["SQLALCHEMY_DATABASE_URI"]!r}}})
        with app.app_context():
            for n in range(5000):
                usage.log_event("search", query=f"q{{n}}", results=n % 3)
        sys.exit(0)  # no explicit flush: the exit must write what is buffered
    """)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120,
                   env={"BRIDGE_SECRET_KEY": "x", "PATH": "/usr/bin:/bin"})
    assert count("search") == 5000


def test_full_batches_are_written_without_waiting_for_the_interval(tmp_path, template_db):
    databases.create(tmp_path, template_db)
    app = create_app(app_config(tmp_path, USAGE_FLUSH_MS=60_000, USAGE_BATCH=100))
    with app.app_context():
        for _ in range(250):
            usage.log_event("view")
        # Whenever a batch's worth waits, the writer takes all that is waiting (one insert or more),
        # so at most batch - 1 events are left for the 60 s interval.
        deadline = time.monotonic() + 20
        while count("view") < 250 - 99 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert count("view") >= 151  # long before the 60 s interval, with no flush
        app.extensions["usage_log"].close()
        assert count("view") == 250
        db.session.remove()
        db.engine.dispose()


def test_events_are_spooled_when_the_database_is_away_and_written_at_next_start(tmp_path, template_db):
    databases.create(tmp_path, template_db)
    away = tmp_path / "away"
    away.mkdir()
    app = create_app(app_config(tmp_path, USAGE_FLUSH_MS=60_000))
    with app.app_context():
        for _ in range(30):
            usage.log_event("download", reason="spool test")
        db.session.remove()
        db.engine.dispose()
        databases.rename(tmp_path, away)  # the database is gone (SQLite: an empty file answers): the insert fails
        app.extensions["usage_log"].close()
        db.session.remove()
        db.engine.dispose()
    assert len(list(tmp_path.glob(usage.SPOOL_GLOB))) == 1
    databases.drop(tmp_path)
    databases.rename(away, tmp_path)

    restarted = create_app(app_config(tmp_path))
    with restarted.app_context():
        usage.log_event("view")
        usage.flush()
        assert count("download") == 30 and count("view") == 1
        assert not list(tmp_path.glob(usage.SPOOL_GLOB))
        restarted.extensions["usage_log"].close()
        db.session.remove()
        db.engine.dispose()


def test_a_bad_event_never_breaks_the_action(app, caplog):
    usage.log_event("teleport")
    assert "could not record teleport event" in caplog.text
    usage.log_event("view")
    assert usage.flush() == 1
