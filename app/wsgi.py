"""The entry point for serving: `flask --app app.wsgi run` (make run), `gunicorn app.wsgi:app`."""
from __future__ import annotations

from app import create_app, tune_garbage_collector

app = create_app()
tune_garbage_collector()
