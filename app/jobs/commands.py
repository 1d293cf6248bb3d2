"""`flask jobs work` (the worker `make run` and `make serve` start beside the web server) and
`flask jobs list`."""
from __future__ import annotations

import ctypes
import logging
import os
import signal
import threading

import click
from flask import current_app

from app.jobs import by_state, worker

PR_SET_PDEATHSIG = 1

jobs_cli = click.Group("jobs", help="Run and list background jobs (bulk documents, kits, reindex).")


@jobs_cli.command("work")
@click.option("--die-with-parent", is_flag=True,
              help="Stop when the process that started this one ends (make run, gunicorn's master).")
@click.option("--parent", type=int, default=None,
              help="With --die-with-parent: that process's id (it may have ended while the app loaded).")
@click.option("--max-jobs", type=int, default=None, help="Leave after this many jobs (default: run until stopped).")
def work(die_with_parent: bool, parent: int | None, max_jobs: int | None):
    """Run queued jobs until SIGTERM or Ctrl-C; a job cut short goes back to the queue."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s jobs %(levelname)s %(message)s")
    stop = threading.Event()
    if die_with_parent:
        parent = parent or os.getppid()
        # SIGKILL, as for gunicorn's workers: a job mid-conversion would hold a SIGTERMed worker for
        # minutes; killed, its lease runs out and another worker runs the job again.
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent left before the line above took effect
            raise SystemExit(1)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        ran = worker.work(stop, max_jobs=max_jobs)
    finally:
        for engine in ("usage_log", "pdf_renderer", "page_renderer"):
            current_app.extensions[engine].close()
    click.echo(f"Job worker stopped after {ran} jobs.")


@jobs_cli.command("list")
def list_jobs():
    """The latest jobs in each state."""
    for state, found in by_state(20).items():
        for job in found:
            click.echo(f"{job.id:>6} {state:<8} {job.kind:<16} {job.done}/{job.total} {job.title}"
                       + (f" — {job.error.splitlines()[0]}" if job.error else ""))
