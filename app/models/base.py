"""Timestamps and tokens every model uses."""
from __future__ import annotations

import secrets
from datetime import UTC, datetime


def utcnow() -> datetime:
    """Naive UTC timestamp: both SQLite and PostgreSQL store it the same way."""
    return datetime.now(UTC).replace(tzinfo=None)


def new_session_token() -> str:
    return secrets.token_urlsafe(24)
