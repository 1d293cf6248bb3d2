"""Where a test's database lives: a SQLite file in its data directory (the default), or, when
`BRIDGE_TEST_POSTGRES_URL` names a PostgreSQL server (`make test` starts one: .ci/with-postgres),
a database of its own on that server. Either way, one database per data directory.

On PostgreSQL, `CREATE DATABASE … TEMPLATE` copies the template block by block through the WAL
(0.3–1.5 s each, paid by most tests). A database copied from the empty template (the migrations and
nothing else) is therefore emptied when its test ends (TRUNCATE, sequences restarted) and kept as a
spare, which the next test gets by a rename; one that does not look like the template afterwards
(a table more or less, a trigger left disabled, someone still connected) is dropped as before.
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
_empty: str | None = None  # the database of the empty template (migrations only)
_empty_shape: tuple | None = None
_from_empty: set[str] = set()  # databases copied from it, emptied and kept when their test ends
_spares: list[str] = []  # emptied copies, each waiting to be renamed for a test
SPARES = 3


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


def mark_empty_template(data_dir: Path) -> None:
    """`data_dir`'s database holds the migrations and nothing else: its copies may be reused."""
    global _empty, _empty_shape
    if SERVER:
        _empty = name_for(data_dir)
        _empty_shape = _shape(_empty)


def _engine_of(name: str) -> sa.Engine:
    return sa.create_engine(make_url(SERVER).set(database=name), poolclass=sa.NullPool)


SHAPE = ("SELECT (SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'), "
         "(SELECT string_agg(version_num, ',') FROM alembic_version), "
         "(SELECT count(*) FROM pg_trigger WHERE tgenabled = 'D')")


def _shape(name: str) -> tuple:
    """What a copy of the empty template must still look like to be reused: its tables, its
    migration and its triggers all enabled."""
    engine = _engine_of(name)
    try:
        with engine.connect() as connection:
            return tuple(connection.execute(sa.text(SHAPE)).one())
    finally:
        engine.dispose()


def _empty_out(name: str) -> bool:
    """Empty a used copy of the empty template so it can serve another test; False if it cannot.
    (A test's few rows go faster by DELETE, foreign keys unchecked, than by TRUNCATE, which makes
    every table and index a new file.)"""
    with admin().connect() as connection:
        if connection.scalar(sa.text("SELECT count(*) FROM pg_stat_activity WHERE datname = :n"), {"n": name}):
            return False
    engine = _engine_of(name)
    try:
        with engine.begin() as connection:
            if tuple(connection.execute(sa.text(SHAPE)).one()) != _empty_shape:
                return False
            connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
            for table in _empty_shape[0].split(","):
                if table != "alembic_version":
                    connection.execute(sa.text(f'DELETE FROM "{table}"'))
            connection.execute(sa.text("SELECT setval(oid, 1, false) FROM pg_class WHERE relkind = 'S'"))
    finally:
        engine.dispose()
    return True


def create(data_dir: Path, template: Path | None = None) -> str:
    """An empty database for `data_dir`, or a copy of `template`'s; returns its URL."""
    if not SERVER:
        if template is not None:
            shutil.copyfile(template / "bridge.db", data_dir / "bridge.db")
        return url(data_dir)
    name = name_for(data_dir)
    from_empty = template is not None and name_for(template) == _empty
    if from_empty and _spares:
        with admin().connect() as connection:
            connection.execute(sa.text(f'ALTER DATABASE "{_spares.pop()}" RENAME TO "{name}"'))
        _from_empty.add(name)
        return url(data_dir)
    statement = f'CREATE DATABASE "{name_for(data_dir)}"'
    if template is not None:
        statement += f' TEMPLATE "{name_for(template)}"'
    with admin().connect() as connection:
        connection.execute(sa.text(statement))
    if from_empty:
        _from_empty.add(name)
    return url(data_dir)


def drop(data_dir: Path) -> None:
    if not SERVER:
        (data_dir / "bridge.db").unlink(missing_ok=True)
        return
    name = name_for(data_dir)
    if name in _from_empty:
        _from_empty.discard(name)
        if len(_spares) < SPARES and _empty_out(name):
            spare = f"spare_{os.getpid()}_{name}"
            with admin().connect() as connection:
                connection.execute(sa.text(f'ALTER DATABASE "{name}" RENAME TO "{spare}"'))
            _spares.append(spare)
            return
    with admin().connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name_for(data_dir)}" WITH (FORCE)'))


def rename(source: Path, target: Path) -> None:
    """Move `source`'s database so that it belongs to `target` (nothing may be connected)."""
    if not SERVER:
        (source / "bridge.db").rename(target / "bridge.db")
        return
    _from_empty.discard(name_for(source))
    with admin().connect() as connection:
        connection.execute(sa.text(f'ALTER DATABASE "{name_for(source)}" RENAME TO "{name_for(target)}"'))


def drop_spares() -> None:
    """Drop the emptied copies still waiting (at the end of a test process)."""
    if SERVER:
        with admin().connect() as connection:
            while _spares:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{_spares.pop()}" WITH (FORCE)'))
