"""PostgreSQL search: each row says which transaction wrote it, and removed rows are remembered,
so a node's copy of the search columns (app/search/postgres/arrays.py) reads only what changed

Revision ID: 0021
Revises: 0020

On PostgreSQL only (SQLite: nothing). `search_document.written` is the writing transaction's id
(`pg_current_xact_id()`, as a bigint: SQLAlchemy's reflection does not know `xid8`), set by
`search_refresh` on every insert and update; `search_gone` gets a row's asset id, with the deleting
transaction's id, whenever a row is deleted (an asset deleted, or
an orphan dropped by a rebuild). A reader that remembers the oldest transaction still running when
it last read (`pg_snapshot_xmin`) finds every row committed since among those written at or after
it, whatever order the writers committed in.
"""
import runpy
from pathlib import Path

from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

_previous = runpy.run_path(str(Path(__file__).with_name("0020_search_pairs.py")))
_LAST_SET = "    updated_at = excluded.updated_at;\n"

assert _previous["REFRESH"].count(_LAST_SET) == 1
REFRESH = _previous["REFRESH"].replace(
    _LAST_SET, "    updated_at = excluded.updated_at, written = pg_current_xact_id()::text::bigint;\n")


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""
        ALTER TABLE search_document ADD COLUMN written bigint NOT NULL DEFAULT pg_current_xact_id()::text::bigint;
        CREATE INDEX ix_search_document_written ON search_document (written);
        CREATE TABLE search_gone (
            asset_id integer NOT NULL,
            written bigint NOT NULL DEFAULT pg_current_xact_id()::text::bigint
        );
        CREATE INDEX ix_search_gone_written ON search_gone (written);
        CREATE FUNCTION search_remember_gone() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO search_gone (asset_id) SELECT asset_id FROM changed;
          RETURN NULL;
        END $$;
        CREATE TRIGGER search_document_delete AFTER DELETE ON search_document
          REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION search_remember_gone();
    """)
    op.execute(REFRESH)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_previous["REFRESH"])
    op.execute("""
        DROP TRIGGER search_document_delete ON search_document;
        DROP FUNCTION search_remember_gone();
        DROP TABLE search_gone;
        DROP INDEX ix_search_document_written;
        ALTER TABLE search_document DROP COLUMN written;
    """)
