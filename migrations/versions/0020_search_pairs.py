"""PostgreSQL search: neighbouring-word pairs (each two lexemes at neighbouring positions of an
asset's vector), kept by the same triggers, so a two-word phrase is one index range scan

Revision ID: 0020
Revises: 0019

On PostgreSQL only (SQLite: nothing). `search_pair` has one row per (pair, asset): `pair` is two
lexemes joined by a space (a lexeme holds none), the second at the position right after the
first's in the asset's `search_document.vector`, under any weights. A quoted phrase of such
neighbours, searched in every field, matches exactly where its pairs are held (one pair: read from
the index alone; more: the vector checks the candidates they leave), instead of reading the vector
of every asset holding its words. `search_refresh` (0019's, which every trigger calls) now writes
an asset's pairs with its postings, in the same statement's transaction. The pairs come from the
stored vector, so they hold what a phrase over the vector finds, with its limits (positions past
16,383 counted as 16,383; a lexeme's first 256 positions).
"""
import runpy
from pathlib import Path

from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

_previous = runpy.run_path(str(Path(__file__).with_name("0019_search_postings.py")))
_LAST = "  SELECT nextval('search_generation');\n"

PAIRS = """  DELETE FROM search_pair WHERE asset_id = ANY(ids);
  INSERT INTO search_pair (pair, asset_id)
  SELECT DISTINCT lexeme || ' ' || next, asset_id
  FROM (SELECT d.asset_id, u.lexeme, p, lead(u.lexeme) OVER w AS next, lead(p) OVER w AS at
        FROM search_document d, unnest(d.vector) u, unnest(u.positions) p
        WHERE d.asset_id = ANY(ids)
        WINDOW w AS (PARTITION BY d.asset_id ORDER BY p)) positions
  WHERE at = p + 1;
"""

assert _previous["REFRESH"].count(_LAST) == 1
REFRESH = _previous["REFRESH"].replace(_LAST, PAIRS + _LAST)


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""
        CREATE TABLE search_pair (
            pair text COLLATE "C" NOT NULL,
            asset_id integer NOT NULL REFERENCES search_document (asset_id) ON DELETE CASCADE,
            PRIMARY KEY (pair, asset_id)
        );
        CREATE INDEX ix_search_pair_asset ON search_pair (asset_id);
    """)
    op.execute(REFRESH)
    # Every existing asset's pairs (its row is as 0019 left it), 500 assets per statement.
    op.execute(f"""
        DO $$ DECLARE ids integer[]; BEGIN
          FOR ids IN SELECT array_agg(asset_id) FROM (
                       SELECT asset_id, (row_number() OVER (ORDER BY asset_id) - 1) / 500 AS batch
                       FROM search_document) numbered GROUP BY batch LOOP
        {PAIRS}
          END LOOP;
        END $$;""")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_previous["REFRESH"])
    op.execute("DROP TABLE search_pair")
