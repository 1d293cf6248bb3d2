"""gunicorn settings for `make serve`: `gunicorn -c python:app.gunicorn_conf app.wsgi:app`.

Environment: BRIDGE_BIND (127.0.0.1:5000), BRIDGE_WORKERS (3). Workers are independent processes:
they share the database (sessions, rate limits, the usage log, the search outbox) and the data
directory (the Whoosh index, written under its lock and retried through the outbox).
"""
import os

bind = os.environ.get("BRIDGE_BIND", "127.0.0.1:5000")
workers = int(os.environ.get("BRIDGE_WORKERS", "3"))
worker_class = "sync"
timeout = 120           # a pitch kit of many PDFs may take a while; renders have their own limit
graceful_timeout = 30
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("BRIDGE_FORWARDED_ALLOW_IPS", "127.0.0.1")


def worker_exit(server, worker):
    """Write the usage events a stopping worker still holds, and stop its render process."""
    app = getattr(worker, "wsgi", None)
    if app is None or not hasattr(app, "extensions"):
        return
    with app.app_context():
        app.extensions["usage_log"].close()
        app.extensions["pdf_renderer"].close()
