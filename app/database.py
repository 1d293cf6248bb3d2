"""Engine tuning per database and the one place that commits or rolls back."""
from __future__ import annotations

from collections.abc import Iterable
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import Insert, event, text
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db


def configure(app: Flask) -> None:
    """Turn on foreign keys, WAL and a busy timeout for every SQLite connection."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    with app.app_context():
        event.listen(db.engine, "connect", _sqlite_pragmas)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # SQLite's lower() folds ASCII only; PostgreSQL's folds every letter. Python's makes them agree,
    # so case-insensitive matches ("Über" for "über") find the same rows on both.
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    # The default 2 MB page cache is smaller than the usage log's indexes: insights queries
    # evicted each other's pages (a 35 ms query took 110 ms after another one). Map the file
    # instead of copying pages, and keep more of them per connection.
    cursor.execute("PRAGMA cache_size=-32000")
    cursor.execute("PRAGMA mmap_size=1073741824")
    cursor.close()


def _lower(value):
    return value.lower() if isinstance(value, str) else value


@contextmanager
def transaction():
    """Commit the session if the block succeeds, roll back and re-raise if it fails."""
    try:
        yield db.session
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def upsert(model, values: dict, keys: Iterable[str], update: dict | None = None) -> Insert:
    """INSERT … ON CONFLICT (keys) DO UPDATE, as SQLite and PostgreSQL both say it: one statement, so
    two requests writing the same row at once both succeed. `update` defaults to the new row's
    values for every column given but the keys."""
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(model).values(**values)
    keys = list(keys)
    if update is None:
        update = {column: statement.excluded[column] for column in values if column not in keys}
    return statement.on_conflict_do_update(index_elements=keys, set_=update)


def is_reachable() -> bool:
    """Whether the database answers a trivial query."""
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:
        db.session.rollback()
        return False
