"""gunicorn settings for `make serve`: `gunicorn -c python:app.gunicorn_conf app.wsgi:app`.

Environment: BRIDGE_BIND (127.0.0.1:5000), BRIDGE_WORKERS (3), BRIDGE_JOB_WORKERS (1: job workers,
`flask jobs work`, the master starts when ready and stops when it leaves; 0 on a node that only
serves pages while other machines run the jobs). Workers are independent processes:
they share the database (sessions, rate limits, the usage log, the search outbox), the files
directory (BRIDGE_FILES_DIR, shared by every node of a cluster too) and the node's data directory
(the Whoosh index, written under its lock and retried through the outbox; caches).

Each worker's render children (documents, page images, conversions) are fresh interpreters that
leave when their worker does; each worker leaves when the master does (`post_fork`). So a crash or
`kill -9` at any level leaves nothing holding the port, and `make serve` starts again on it.
"""
import ctypes
import os
import signal
import subprocess
import sys

bind = os.environ.get("BRIDGE_BIND", "127.0.0.1:5000")
workers = int(os.environ.get("BRIDGE_WORKERS", "3"))
worker_class = "sync"
timeout = 120           # above a conversion's 90 s limit; renders have their own limits
graceful_timeout = 30
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("BRIDGE_FORWARDED_ALLOW_IPS", "127.0.0.1")

PR_SET_PDEATHSIG = 1


def post_fork(server, worker):
    """A worker dies with its master. Idle workers notice a dead master within a second, but a busy
    one finishes its request first (up to `timeout`), holding the listening socket all along."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != server.pid:  # the master died before the line above took effect
        os._exit(1)


def post_worker_init(worker):
    """Warm the worker's search before it accepts requests (app/search/warmup.py: one worker at a time,
    never a rebuild), so its first search is answered as fast as its later ones."""
    app = getattr(worker, "wsgi", None)
    if app is None or not hasattr(app, "extensions"):
        return
    from app import search

    with app.app_context():
        try:
            search.warm()
        except Exception:  # a worker that cannot warm still serves, cold
            app.logger.exception("search warm-up failed")


def worker_exit(server, worker):
    """Write the usage events a stopping worker still holds, and stop its render children."""
    app = getattr(worker, "wsgi", None)
    if app is None or not hasattr(app, "extensions"):
        return
    with app.app_context():
        app.extensions["usage_log"].close()
        app.extensions["pdf_renderer"].close()
        app.extensions["page_renderer"].close()


def when_ready(server):
    """Start the job workers beside the web workers; each dies with the master (--die-with-parent)."""
    count = int(os.environ.get("BRIDGE_JOB_WORKERS", "1"))
    command = [sys.executable, "-m", "flask", "--app", "app", "jobs", "work", "--die-with-parent",
               "--parent", str(os.getpid())]
    server.bridge_job_workers = [subprocess.Popen(command, close_fds=True) for _ in range(count)]


def on_exit(server):
    """Stop the job workers: a job cut short goes back to the queue."""
    for process in getattr(server, "bridge_job_workers", []):
        process.terminate()
    for process in getattr(server, "bridge_job_workers", []):
        try:
            process.wait(timeout=graceful_timeout)
        except subprocess.TimeoutExpired:
            process.kill()
