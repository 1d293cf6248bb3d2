"""PostgreSQL search: a postings table (each word's assets with its occurrences per field), kept by
the same triggers, so a query's words are index range scans scored with BM25F

Revision ID: 0019
Revises: 0017

On PostgreSQL only (SQLite: nothing). `search_posting` has one row per (lexeme, asset) of an
asset's `search_document.vector`, with how often the lexeme occurs under each weight (a: title,
b: tags, product, kind and taxonomy, c: description, d: messaging and file text); each
`search_document` row gets its length under each weight (`size_a` … `size_d`). `search_refresh`,
which every trigger calls, now writes an asset's postings with its row, in the same statement's
transaction: no drift, as before. The lexeme column is in the "C" collation: byte order, so a
prefix is one range of the primary key. Every existing asset's postings are computed here.

The vector and spelling columns go back to being stored out of line when a row is large
(`toast_tuple_target`): queries read the postings now, and only a phrase or a neighbouring pair
reads a vector, so the table's own rows stay narrow (facet counts read every match's row).
"""
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

FILE_TEXT_CHARS = 300_000  # of a version's text: a tsvector holds at most 1 MB (as 0013)

KIND_LABELS = {"brochure": "Brochure", "one_pager": "One-pager", "case_study": "Case study",
               "slide_deck": "Slide deck", "datasheet": "Datasheet", "messaging": "Messaging / talk track",
               "email_template": "Email template", "battlecard": "Battlecard", "video_link": "Video link"}

_kind_label = "CASE a.kind " + " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in KIND_LABELS.items()) + " ELSE '' END"

# 0013's search_refresh with the lengths per weight and the postings (the rest as 0013 wrote it).
_SOURCE = f"""
  FROM asset a
  LEFT JOIN LATERAL (SELECT text FROM asset_version WHERE asset_id = a.id ORDER BY number DESC LIMIT 1) v ON true
  LEFT JOIN LATERAL (SELECT string_agg(t, ' ') AS words, array_agg(DISTINCT lower(t)) AS tags
                     FROM json_array_elements_text(coalesce(a.tags::json, '[]'::json)) t) tg ON true
  LEFT JOIN LATERAL (SELECT string_agg(t.name, ' ') AS names, array_agg(t.dimension_id || ':' || t.id) AS keys
                     FROM asset_term x JOIN term t ON t.id = x.term_id WHERE x.asset_id = a.id) tx ON true
  LEFT JOIN LATERAL (SELECT string_agg(s.name, ' ') AS names, array_agg(s.id::text) AS keys
                     FROM asset_stage x JOIN stage s ON s.id = x.stage_id WHERE x.asset_id = a.id) st ON true
  CROSS JOIN LATERAL (SELECT
         setweight(to_tsvector('english', coalesce(a.title, '')), 'A')
         || setweight(to_tsvector('english', concat_ws(' ', tg.words, a.product, {_kind_label})), 'B')
         || setweight(to_tsvector('english', concat_ws(' ', tx.names, st.names)), 'B')
         || setweight(to_tsvector('english', coalesce(a.description, '')), 'C')
         || setweight(to_tsvector('english', concat_ws(' ', a.body, left(v.text, {FILE_TEXT_CHARS}))), 'D')
         AS vector) vec"""

REFRESH = f"""
CREATE OR REPLACE FUNCTION search_refresh(ids integer[]) RETURNS void LANGUAGE sql AS $$
  INSERT INTO search_document AS d (asset_id, vector, size, size_a, size_b, size_c, size_d, spell, tags, kind,
                                    product, terms, stages, published, expires_on, updated_at)
  SELECT a.id, vec.vector, sz.size, sz.a, sz.b, sz.c, sz.d,
         to_tsvector('simple', concat_ws(' ', a.title, a.description, tg.words, a.product, tx.names, st.names)),
         coalesce(tg.tags, '{{}}'), a.kind, coalesce(a.product, ''), coalesce(tx.keys, '{{}}'),
         coalesce(st.keys, '{{}}'), a.status = 'published', a.expires_on, a.updated_at
  {_SOURCE}
  CROSS JOIN LATERAL (SELECT count(*)::integer AS size, count(*) FILTER (WHERE w = 'A')::integer AS a,
                             count(*) FILTER (WHERE w = 'B')::integer AS b,
                             count(*) FILTER (WHERE w = 'C')::integer AS c,
                             count(*) FILTER (WHERE w = 'D')::integer AS d
                      FROM unnest(vec.vector) u LEFT JOIN LATERAL unnest(u.weights) w ON true) sz
  WHERE a.id = ANY(ids)
  ON CONFLICT (asset_id) DO UPDATE SET vector = excluded.vector, size = excluded.size, size_a = excluded.size_a,
    size_b = excluded.size_b, size_c = excluded.size_c, size_d = excluded.size_d, spell = excluded.spell,
    tags = excluded.tags, kind = excluded.kind, product = excluded.product, terms = excluded.terms,
    stages = excluded.stages, published = excluded.published, expires_on = excluded.expires_on,
    updated_at = excluded.updated_at;
  DELETE FROM search_posting WHERE asset_id = ANY(ids);
  INSERT INTO search_posting (lexeme, asset_id, a, b, c, d)
  SELECT u.lexeme, d.asset_id, n.a, n.b, n.c, n.d
  FROM search_document d, unnest(d.vector) u,
       LATERAL (SELECT count(*) FILTER (WHERE w = 'A')::smallint AS a, count(*) FILTER (WHERE w = 'B')::smallint AS b,
                       count(*) FILTER (WHERE w = 'C')::smallint AS c,
                       -- a lexeme without positions (none here: to_tsvector keeps them) counts once, as D
                       greatest(count(*) FILTER (WHERE w = 'D'), (cardinality(u.weights) = 0)::int)::smallint AS d
                FROM unnest(u.weights) w) n
  WHERE d.asset_id = ANY(ids);
  SELECT nextval('search_generation');
$$;
"""

OLD_REFRESH = f"""
CREATE OR REPLACE FUNCTION search_refresh(ids integer[]) RETURNS void LANGUAGE sql AS $$
  INSERT INTO search_document AS d (asset_id, vector, size, spell, tags, kind, product, terms, stages, published,
                                    expires_on, updated_at)
  SELECT a.id, vec.vector, sz.size,
         to_tsvector('simple', concat_ws(' ', a.title, a.description, tg.words, a.product, tx.names, st.names)),
         coalesce(tg.tags, '{{}}'), a.kind, coalesce(a.product, ''), coalesce(tx.keys, '{{}}'),
         coalesce(st.keys, '{{}}'), a.status = 'published', a.expires_on, a.updated_at
  {_SOURCE}
  CROSS JOIN LATERAL (SELECT coalesce(sum(coalesce(array_length(positions, 1), 1)), 0)::integer AS size
                      FROM unnest(vec.vector)) sz
  WHERE a.id = ANY(ids)
  ON CONFLICT (asset_id) DO UPDATE SET vector = excluded.vector, size = excluded.size, spell = excluded.spell,
    tags = excluded.tags, kind = excluded.kind, product = excluded.product,
    terms = excluded.terms, stages = excluded.stages,
    published = excluded.published, expires_on = excluded.expires_on, updated_at = excluded.updated_at;
  SELECT nextval('search_generation');
$$;
"""


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""
        ALTER TABLE search_document ADD COLUMN size_a integer NOT NULL DEFAULT 0,
          ADD COLUMN size_b integer NOT NULL DEFAULT 0, ADD COLUMN size_c integer NOT NULL DEFAULT 0,
          ADD COLUMN size_d integer NOT NULL DEFAULT 0;
        ALTER TABLE search_document ALTER vector SET STORAGE EXTENDED, ALTER spell SET STORAGE EXTENDED;
        ALTER TABLE search_document SET (toast_tuple_target = 256);
        CREATE TABLE search_posting (
            lexeme text COLLATE "C" NOT NULL,
            asset_id integer NOT NULL REFERENCES search_document (asset_id) ON DELETE CASCADE,
            a smallint NOT NULL, b smallint NOT NULL, c smallint NOT NULL, d smallint NOT NULL,
            PRIMARY KEY (lexeme, asset_id) INCLUDE (a, b, c, d)
        );
        CREATE INDEX ix_search_posting_asset ON search_posting (asset_id);
    """)
    op.execute(REFRESH)
    # Every row again: its lengths, its postings, and the vector stored as the table now says.
    op.execute("SELECT search_refresh(ARRAY(SELECT id FROM asset))")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(OLD_REFRESH)
    op.execute("DROP TABLE search_posting")
    op.execute("""
        ALTER TABLE search_document RESET (toast_tuple_target);
        ALTER TABLE search_document ALTER vector SET STORAGE MAIN, ALTER spell SET STORAGE MAIN;
        ALTER TABLE search_document DROP COLUMN size_a, DROP COLUMN size_b, DROP COLUMN size_c, DROP COLUMN size_d;
    """)
