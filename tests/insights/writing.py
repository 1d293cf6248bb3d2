"""Writing a test's log as a busy Bridge would: out of order, in batches, from several writers at once."""
from __future__ import annotations

import random
import threading

from flask import current_app

from app import usage


def record_out_of_order(rows, rng: random.Random, batches: int = 24, writers: int = 4) -> None:
    """Write `rows` shuffled (a click before its search, an event backdated into an old session) in
    `batches` batches spread over `writers` threads, each batch in its own transaction."""
    rows = list(rows)
    rng.shuffle(rows)
    chunks = [rows[n::batches] for n in range(batches)]
    app, failures = current_app._get_current_object(), []

    def write(mine):
        try:
            with app.app_context():
                for chunk in mine:
                    usage.record(chunk)
        except Exception as exc:  # reported below: a thread's exception would be lost
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(chunks[n::writers],)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
