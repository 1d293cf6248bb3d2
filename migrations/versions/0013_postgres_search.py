"""PostgreSQL search: one `search_document` row per asset, kept by triggers in the writer's transaction

Revision ID: 0013
Revises: 0010

On PostgreSQL only (on SQLite this revision does nothing: the Whoosh backend keeps its own index).
`search_document` holds what the PostgreSQL search backend (app/search/postgres/) matches, ranks
and counts facets on: a weighted `tsvector` (title A; tags, product, kind and taxonomy names B;
description C; messaging and the current file's text D), the unstemmed words spelling is drawn
from, tags, facet values and visibility. Statement-level triggers on asset, asset_version,
asset_term, asset_stage, term and stage recompute the rows a statement touched, inside the
statement's own transaction: a rolled-back write leaves no trace, a committed one is searchable
at once, on every node, whoever wrote it (the app, `flask restore`, plain SQL). `search_word`
(every spelling word ever indexed, a trigram index on it; no writer ever waits on it) is where typo corrections are looked up;
`search_generation` changes with every write (caches of document frequencies key on it);
`search_note` keeps the notes of the last rebuild (boilerplate lines).

The kind labels are copied here as they were when this revision was written.
"""
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

FILE_TEXT_CHARS = 300_000  # of a version's text: a tsvector holds at most 1 MB

KIND_LABELS = {"brochure": "Brochure", "one_pager": "One-pager", "case_study": "Case study",
               "slide_deck": "Slide deck", "datasheet": "Datasheet", "messaging": "Messaging / talk track",
               "email_template": "Email template", "battlecard": "Battlecard", "video_link": "Video link"}

_kind_label = "CASE a.kind " + " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in KIND_LABELS.items()) + " ELSE '' END"

TABLES = f"""
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE SEQUENCE search_generation;
CREATE TABLE search_document (
    asset_id integer PRIMARY KEY REFERENCES asset (id) ON DELETE CASCADE,
    vector tsvector NOT NULL,
    size integer NOT NULL,  -- words in the vector (positions): ranks are divided by 1 + ln(size)
    spell tsvector NOT NULL,
    tags text[] NOT NULL,
    kind text NOT NULL,
    product text NOT NULL,
    terms text[] NOT NULL,
    stages text[] NOT NULL,
    published boolean NOT NULL,
    expires_on date,
    updated_at timestamp NOT NULL
);
-- Kept in the row (the vector compressed) rather than moved out of it: each word of a query reads
-- the vector again, and the facet counts read the arrays of every match; an out-of-line value costs
-- a TOAST index lookup per read. (With the default, PostgreSQL moved even the small arrays out
-- first: 5 to 10x slower queries at 10,000 assets.)
ALTER TABLE search_document ALTER vector SET STORAGE MAIN, ALTER spell SET STORAGE MAIN,
  ALTER tags SET STORAGE MAIN, ALTER kind SET STORAGE MAIN, ALTER product SET STORAGE MAIN,
  ALTER terms SET STORAGE MAIN, ALTER stages SET STORAGE MAIN;
CREATE INDEX ix_search_document_vector ON search_document USING gin (vector);
CREATE INDEX ix_search_document_spell ON search_document USING gin (spell);
CREATE INDEX ix_search_document_tags ON search_document USING gin (tags);
-- No unique key: a word two writers add at once may be there twice (read with DISTINCT), but no
-- writer ever waits for another's uncommitted word (which, over several statements, could deadlock).
CREATE TABLE search_word (word text NOT NULL);
CREATE INDEX ix_search_word_word ON search_word (word);
CREATE INDEX ix_search_word_trigram ON search_word USING gin (word gin_trgm_ops);
CREATE TABLE search_note (name text PRIMARY KEY, value text NOT NULL);

CREATE FUNCTION search_refresh(ids integer[]) RETURNS void LANGUAGE sql AS $$
  INSERT INTO search_document AS d (asset_id, vector, size, spell, tags, kind, product, terms, stages, published,
                                    expires_on, updated_at)
  SELECT a.id, vec.vector, sz.size,
         to_tsvector('simple', concat_ws(' ', a.title, a.description, tg.words, a.product, tx.names, st.names)),
         coalesce(tg.tags, '{{}}'), a.kind, coalesce(a.product, ''), coalesce(tx.keys, '{{}}'),
         coalesce(st.keys, '{{}}'), a.status = 'published', a.expires_on, a.updated_at
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
         AS vector) vec
  CROSS JOIN LATERAL (SELECT coalesce(sum(coalesce(array_length(positions, 1), 1)), 0)::integer AS size
                      FROM unnest(vec.vector)) sz
  WHERE a.id = ANY(ids)
  ON CONFLICT (asset_id) DO UPDATE SET vector = excluded.vector, size = excluded.size, spell = excluded.spell, tags = excluded.tags,
    kind = excluded.kind, product = excluded.product, terms = excluded.terms, stages = excluded.stages,
    published = excluded.published, expires_on = excluded.expires_on, updated_at = excluded.updated_at;
  SELECT nextval('search_generation');
$$;

CREATE FUNCTION search_remember_words() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO search_word (word)
  SELECT DISTINCT w FROM changed, unnest(tsvector_to_array(changed.spell)) w
  WHERE length(w) BETWEEN 3 AND 40 AND w ~ '^[[:alpha:]]+$'
    AND NOT EXISTS (SELECT 1 FROM search_word s WHERE s.word = w);
  RETURN NULL;
END $$;

CREATE FUNCTION search_follow_assets() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM search_refresh(ARRAY(SELECT id FROM changed));
  RETURN NULL;
END $$;

CREATE FUNCTION search_follow_asset_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM search_refresh(ARRAY(SELECT DISTINCT asset_id FROM changed));
  RETURN NULL;
END $$;

CREATE FUNCTION search_follow_terms() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM search_refresh(ARRAY(SELECT DISTINCT x.asset_id FROM asset_term x JOIN changed c ON c.id = x.term_id));
  RETURN NULL;
END $$;

CREATE FUNCTION search_follow_stages() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM search_refresh(ARRAY(SELECT DISTINCT x.asset_id FROM asset_stage x JOIN changed c ON c.id = x.stage_id));
  RETURN NULL;
END $$;
"""

# (trigger, table, event, transition table, function)
TRIGGERS = [
    ("search_asset_insert", "asset", "INSERT", "NEW", "search_follow_assets"),
    ("search_asset_update", "asset", "UPDATE", "NEW", "search_follow_assets"),
    ("search_version_insert", "asset_version", "INSERT", "NEW", "search_follow_asset_rows"),
    ("search_version_update", "asset_version", "UPDATE", "NEW", "search_follow_asset_rows"),
    ("search_version_delete", "asset_version", "DELETE", "OLD", "search_follow_asset_rows"),
    ("search_asset_term_insert", "asset_term", "INSERT", "NEW", "search_follow_asset_rows"),
    ("search_asset_term_delete", "asset_term", "DELETE", "OLD", "search_follow_asset_rows"),
    ("search_asset_stage_insert", "asset_stage", "INSERT", "NEW", "search_follow_asset_rows"),
    ("search_asset_stage_delete", "asset_stage", "DELETE", "OLD", "search_follow_asset_rows"),
    ("search_term_update", "term", "UPDATE", "NEW", "search_follow_terms"),
    ("search_stage_update", "stage", "UPDATE", "NEW", "search_follow_stages"),
    ("search_word_insert", "search_document", "INSERT", "NEW", "search_remember_words"),
    ("search_word_update", "search_document", "UPDATE", "NEW", "search_remember_words"),
]
FUNCTIONS = ["search_remember_words()", "search_follow_assets()", "search_follow_asset_rows()",
             "search_follow_terms()", "search_follow_stages()", "search_refresh(integer[])"]


def upgrade():
    """The tables, functions and triggers; then every existing asset's row."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(TABLES)
    for name, table, event, transition, function in TRIGGERS:
        op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {transition} TABLE AS changed "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()")
    op.execute("SELECT search_refresh(ARRAY(SELECT id FROM asset))")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, table, *_ in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    for function in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {function}")
    op.execute("DROP TABLE IF EXISTS search_note, search_word, search_document")
    op.execute("DROP SEQUENCE IF EXISTS search_generation")
    # pg_trgm stays: dropping an extension another schema object may use is not this revision's call.
