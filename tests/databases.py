"""Where a test's database lives: a SQLite file in its data directory (the default), or, when
`BRIDGE_TEST_POSTGRES_URL` names a PostgreSQL server (`make test` starts one: .ci/with-postgres),
a database of its own on that server. Either way, one database per data directory.
"""
from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

SERVER = os.environ.get("BRIDGE_TEST_POSTGRES_URL", "")
KIND = "postgresql" if SERVER else "sqlite"
_admin: sa.Engine | None = None


def admin() -> sa.Engine:
    """An autocommit connection pool to the server's maintenance database (CREATE/DROP DATABASE)."""
    global _admin
    if _admin is None:
        _admin = sa.create_engine(SERVER, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    return _admin


def name_for(data_dir: Path) -> str:
    return "t_" + hashlib.sha1(str(data_dir).encode()).hexdigest()[:24]


def url(data_dir: Path) -> str:
    """The SQLAlchemy URL of the database that belongs to `data_dir` (it may not exist yet)."""
    if not SERVER:
        return f"sqlite:///{data_dir / 'bridge.db'}"
    return make_url(SERVER).set(database=name_for(data_dir)).render_as_string(hide_password=False)


def exists(data_dir: Path) -> bool:
    if not SERVER:
        return (data_dir / "bridge.db").exists()
    with admin().connect() as connection:
        return connection.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                 {"n": name_for(data_dir)}) is not None


def create(data_dir: Path, template: Path | None = None) -> str:
    """An empty database for `data_dir`, or a copy of `template`'s; returns its URL."""
    if not SERVER:
        if template is not None:
            shutil.copyfile(template / "bridge.db", data_dir / "bridge.db")
        return url(data_dir)
    statement = f'CREATE DATABASE "{name_for(data_dir)}"'
    if template is not None:
        statement += f' TEMPLATE "{name_for(template)}"'
    with admin().connect() as connection:
        connection.execute(sa.text(statement))
    return url(data_dir)


def drop(data_dir: Path) -> None:
    if not SERVER:
        (data_dir / "bridge.db").unlink(missing_ok=True)
        return
    with admin().connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name_for(data_dir)}" WITH (FORCE)'))


def rename(source: Path, target: Path) -> None:
    """Move `source`'s database so that it belongs to `target` (nothing may be connected)."""
    if not SERVER:
        (source / "bridge.db").rename(target / "bridge.db")
        return
    with admin().connect() as connection:
        connection.execute(sa.text(f'ALTER DATABASE "{name_for(source)}" RENAME TO "{name_for(target)}"'))
