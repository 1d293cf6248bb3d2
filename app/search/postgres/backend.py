"""The PostgreSQL backend: search over `search_document` (migration 0013), in the app's database.

Nothing is kept on a node's disk and nothing needs following: triggers recompute an asset's row
in the transaction that writes the asset (see the migration), so every node sees a committed
change at once and a rolled-back one never. `write` has nothing to do; `rebuild` recomputes the
rows (after a change to how they are computed); `check` compares each row with what the
database computes for it now.
"""
from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import date

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.extensions import db
from app.search.backend import Changes, Document, Match, Progress, Query, Vocabulary, Word, any_of
from app.search.postgres import bm25, tsquery
from app.search.postgres.facets import facet_sql, filters_sql

BATCH = 500  # assets recomputed per statement in a rebuild
CACHE_ENTRIES = 20_000  # analysed texts and document frequencies kept per process
NEAR = 20  # trigram neighbours of a misspelt word considered
KEY_TERMS = 8  # "more like this": of an asset's KEY_TERM_CANDIDATES commonest words, the best by tf·idf
KEY_TERM_CANDIDATES = 40
# Parallel workers for a query's scan and aggregate: on the 2-core development machine they cost
# more than they bought (the long queries' median 230 → 141 ms without them, bench/README.md).
PARALLEL = False
# Neighbouring-word pairs (backend.Query.pairs) add to the score of the best rows by everything
# else only: checking a phrase in every match of common words was most of a long query's time.
PAIR_DEPTH = 500


class _Bounded(dict):
    """A dict that forgets everything once it holds CACHE_ENTRIES (cheap, and enough here)."""

    def put(self, key, value):
        if len(self) >= CACHE_ENTRIES:
            self.clear()
        self[key] = value


class _Statistics(dict):
    """Average lengths per weight ("a" … "d") and the number of documents (""), with the document
    frequency of each term looked up once (`search_posting`)."""

    def __init__(self, documents: int, averages: dict[str, float]):
        super().__init__(averages, **{"": documents})
        self.frequencies = _Bounded()

    def frequency(self, term: bm25.Term) -> int:
        name = (term.key, term.weights)
        found = self.frequencies.get(name)
        if found is None:
            params: dict = {}
            condition = bm25.key_condition(term.key, params, 0)
            counted = "DISTINCT asset_id" if term.key.prefix else "*"
            found = int(db.session.scalar(text(
                f"SELECT count({counted}) FROM search_posting WHERE {condition} "
                f"AND ({bm25.weights_condition(term.weights)})"), params))
            self.frequencies.put(name, found)
        return found


def visible_sql(visible_on: date | None) -> tuple[str, dict]:
    if visible_on is None:
        return "TRUE", {}
    return "published AND (expires_on IS NULL OR expires_on >= :day)", {"day": visible_on}


class PostgresBackend:
    """Search in PostgreSQL; see `app.search.backend.Backend` for what each method promises."""

    def __init__(self):
        self._lock = threading.Lock()
        self._lexemes = _Bounded()  # text → [(lexeme, position)]: the english configuration's analysis
        self._bm25: dict[object, _Statistics] = {}  # generation → its BM25 statistics

    # answering ---------------------------------------------------------------
    def match(self, query: Query) -> Match:
        return self._match(query, self._analysed(db.session, tsquery.texts_of(query.match) | {
            t for node in (*query.slots, *query.pairs) for t in tsquery.texts_of(node)}))

    def _match(self, query: Query, lexemes: Mapping[str, list[tuple[str, int]]]) -> Match:
        session = db.session
        compiled = bm25.Compiler(lexemes).query(query)
        scored = compiled.scored
        params = dict(compiled.params)
        visible, visible_params = visible_sql(query.visible_on)
        params.update(visible_params)
        where = [visible]
        if query.among is not None:  # assets the database chose (freshness): narrows results and facets alone
            where.append("asset_id = ANY(:among)")
            params["among"] = sorted(query.among)
        tf, agg = "", ""
        source = "search_document d"
        if scored and compiled.terms:
            statistics = self._statistics(session)
            for term in compiled.terms.values():
                params[term.idf_param] = bm25.idf(statistics[""], statistics.frequency(term))
            tf = bm25.tf_columns(compiled, statistics)
            agg = f"agg AS ({bm25.aggregate_sql(compiled, params)}),"
            source = ("agg JOIN search_document d USING (asset_id)" if compiled.narrow
                      else "search_document d LEFT JOIN agg USING (asset_id)")
        filters = filters_sql(query.filters, params)
        columns = "".join(f", ({sql}) AS {name}" for sql, name in compiled.columns)
        pair_columns = "".join(f", ({base}) AS pb{n}" for n, (base, _) in enumerate(compiled.pairs))
        order = ("updated_at DESC, asset_id DESC" if query.newest_first or not scored
                 else "score DESC, asset_id")
        limit = "" if query.limit is None else f"LIMIT {int(query.limit)}"
        passing = " AND ".join(filters.values()) or "TRUE"
        ranked = (f"SELECT asset_id, score, row_number() OVER (ORDER BY {order}) AS position FROM hit "
                  f"WHERE {passing} ORDER BY {order} {limit}")
        if compiled.pairs and order.startswith("score") and query.limit is not None:
            paired = " + ".join(f"CASE WHEN best.pb{n} > 0 AND v @@ CAST(:{name} AS tsquery) THEN best.pb{n} ELSE 0 END"
                                for n, (_, name) in enumerate(compiled.pairs))
            ranked = f"""
              SELECT asset_id, score, row_number() OVER (ORDER BY score DESC, asset_id) AS position FROM (
                SELECT best.asset_id, best.score + {compiled.pair_weight} * ({paired}) * best.factor AS score
                FROM (SELECT * FROM hit WHERE {passing} ORDER BY score DESC, asset_id
                      LIMIT {max(PAIR_DEPTH, int(query.limit))}) best,
                     LATERAL (SELECT (ARRAY[vector])[1] AS v  -- decompressed once per row, not once per pair
                              FROM search_document d WHERE d.asset_id = best.asset_id OFFSET 0) x) paired
              ORDER BY score DESC, asset_id {limit}"""
        factor, score = (compiled.factor, compiled.score) if scored else ("1", "0")
        sql = f"""
            WITH {agg} hit AS MATERIALIZED (
              SELECT asset_id, kind, product, terms, stages, updated_at, ({score}) * {factor} AS score,
                     {factor} AS factor{pair_columns}
              FROM (SELECT x.*{columns} FROM (
                      SELECT asset_id, d.kind, d.product, d.terms, d.stages, d.updated_at, d.tags,
                             d.vector AS v{tf}
                      FROM {source} WHERE {' AND '.join(where)} OFFSET 0) x OFFSET 0) y
              WHERE {compiled.match})
            SELECT 0 AS part, asset_id::text AS facet, '' AS value, score::float8 AS n, position
            FROM ({ranked}) top
            UNION ALL SELECT 1, '', '', count(*), 0 FROM hit WHERE {passing}
            {facet_sql(filters)}"""
        if not PARALLEL:
            session.execute(text("SELECT set_config('max_parallel_workers_per_gather', '0', true)"))
        rows = session.execute(text(sql), params).all()
        top = sorted((r for r in rows if r.part == 0), key=lambda r: r.position)
        counts: dict[str, dict[str, int]] = {}
        total = 0
        for row in rows:
            if row.part == 1:
                total = int(row.n)
            elif row.part == 2 and row.n:
                counts.setdefault(row.facet, {})[row.value] = int(row.n)
        return Match(ids=[int(r.facet) for r in top], scores=[float(r.n) if scored else 0.0 for r in top],
                     total=total, facets=counts, terms=list(dict.fromkeys(compiled.highlight)), scored=scored)

    def vocabulary(self) -> Vocabulary:
        return Vocabulary(self._generation(db.session), {}, near=self._near)

    def known(self, words: Iterable[str], visible_on: date | None) -> dict[str, int]:
        words = list(dict.fromkeys(words))
        if not words:
            return {}
        visible, params = visible_sql(visible_on)
        rows = db.session.execute(text(f"""
            SELECT w, (SELECT count(*) FROM search_document WHERE spell @@ CAST(q AS tsquery) AND {visible})
            FROM unnest(CAST(:words AS text[]), CAST(:queries AS text[])) AS u(w, q)"""),
            {**params, "words": words, "queries": [tsquery.quoted(w) for w in words]}).all()
        return {w: int(n) for w, n in rows}

    def _near(self, word: str, edits: int) -> dict[str, int]:
        """Indexed words that look like `word` (pg_trgm), within `edits` characters of its length,
        with how many documents (of any status) hold each."""
        rows = db.session.execute(text("""
            SELECT word, (SELECT count(*) FROM search_document WHERE spell @@ CAST(quote AS tsquery))
            FROM (SELECT DISTINCT word, similarity(word, :word) AS alike,
                         '''' || replace(word, '''', '''''') || '''' AS quote FROM search_word
                  WHERE word % :word AND length(word) BETWEEN :shortest AND :longest
                  ORDER BY alike DESC, word LIMIT :near) close"""),
            {"word": word, "shortest": len(word) - edits, "longest": len(word) + edits, "near": NEAR}).all()
        return {w: int(n) for w, n in rows if n}

    def complete(self, prefix: str, visible_on: date | None, limit: int) -> tuple[list[int], list[str]]:
        words = re.findall(r"\w+", prefix.lower())
        if not words:
            return [], []
        analysed = self._analysed(db.session, set(words[:-1]))
        operands = [tsquery.quoted(lexeme) + ":A" for w in words[:-1] for lexeme, _ in analysed.get(w, [])]
        query = " & ".join([*operands, tsquery.quoted(words[-1]) + ":*A"])
        visible, params = visible_sql(visible_on)
        ids = db.session.scalars(text(f"""
            SELECT asset_id FROM search_document WHERE vector @@ CAST(:q AS tsquery) AND {visible}
            ORDER BY ts_rank('{tsquery.WEIGHTS}', vector, CAST(:q AS tsquery)) DESC, asset_id LIMIT :limit"""),
            {**params, "q": query, "limit": limit}).all()
        pattern = prefix.lower().strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        tags = db.session.scalars(text(f"""
            SELECT DISTINCT t FROM search_document, unnest(tags) t WHERE t LIKE :pattern AND {visible}
            ORDER BY t LIMIT :limit"""), {**params, "pattern": pattern, "limit": limit}).all()
        return list(ids), list(tags)

    def similar(self, asset_id: int, visible_on: date | None, limit: int) -> list[int]:
        """The asset's words of its title, tags, description and text (not its product, kind or
        taxonomy: every asset has some), the most frequent KEY_TERM_CANDIDATES; of those held by
        other assets' descriptions or text, the KEY_TERMS with the best tf·idf, OR-ed, each scored
        like a query's word (BM25F from the postings) and weighted, as the Whoosh backend does."""
        session = db.session
        candidates = session.execute(text("""
            SELECT lexeme, sum(n) AS n FROM (
              SELECT lexeme, coalesce(array_length(positions, 1), 1) AS n
              FROM search_document, unnest(ts_filter(vector, '{a,c,d}')) WHERE asset_id = :id
              UNION ALL SELECT lexeme, 1 FROM search_document,
                unnest(to_tsvector('english', array_to_string(tags, ' '))) WHERE asset_id = :id) words
            WHERE length(lexeme) > 2 AND lexeme !~ '^[0-9]+$'
            GROUP BY lexeme ORDER BY n DESC, lexeme LIMIT :candidates"""),
            {"id": asset_id, "candidates": KEY_TERM_CANDIDATES}).all()
        if not candidates:
            return []
        statistics = self._statistics(session)

        def frequency(lexeme: str, weights: str) -> int:
            return statistics.frequency(bm25.Term(bm25.Key(lexeme), weights, "", ""))

        weighed = []
        for lexeme, count in candidates:  # rare in the library's text, as the Whoosh backend judges it
            df = frequency(lexeme, "cd")
            if df > 1:
                weighed.append((int(count) * bm25.idf(statistics[""], df - 1), lexeme))
        weighed.sort(key=lambda pair: (-pair[0], pair[1]))
        if not weighed:
            return []
        best = weighed[0][0]
        words = [Word(lexeme, weight=round(w / best, 6)) for w, lexeme in weighed[:KEY_TERMS]]
        found = self._match(Query(match=any_of(words), visible_on=visible_on, limit=limit + 1),
                            {word.text: [(word.text, 1)] for word in words})
        return [i for i in found.ids if i != asset_id][:limit]

    # the index's life --------------------------------------------------------
    def write(self, read_changes: Callable[[], Changes]) -> bool:
        """Nothing to apply: the triggers wrote each change with it (an outbox row left by an app on
        the Whoosh backend is simply let go)."""
        read_changes()
        return True

    def rebuild(self, documents: Iterable[Document], total: int, progress: Progress | None = None,
                notes: Callable[[], dict] | None = None) -> int:
        """Recompute every asset's row, a batch of ids per statement, as `documents` stream by."""
        done, batch = 0, []
        with Session(db.engine) as session:
            for document in documents:
                batch.append(document.id)
                done += 1
                if len(batch) >= BATCH:
                    self._refresh(session, batch)
                    batch = []
                if progress and (done % 50 == 0 or done == total):
                    progress(done, total)
            self._refresh(session, batch)
            session.execute(text("DELETE FROM search_document WHERE asset_id NOT IN (SELECT id FROM asset)"))
            session.commit()
        self.write_notes(notes() if notes else {})
        return done

    def settle(self) -> None:
        """After a rebuild, once the transaction that read the documents has ended (until then
        VACUUM may not mark the new rows visible to all): every row was rewritten, so the
        postings' pages are marked all-visible (index-only scans, not a heap fetch per posting)
        and their statistics refreshed, without waiting for autovacuum."""
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM (ANALYZE) search_posting, search_pair, search_document"))

    @staticmethod
    def _refresh(session: Session, ids: list[int]) -> None:
        if ids:
            session.execute(text("SELECT search_refresh(CAST(:ids AS integer[]))"), {"ids": ids})
            session.commit()

    def notes(self) -> dict:
        value = db.session.scalar(text("SELECT value FROM search_note WHERE name = 'notes'"))
        return json.loads(value) if value else {}

    def write_notes(self, notes: dict) -> None:
        with Session(db.engine) as session:
            session.execute(text("""INSERT INTO search_note (name, value) VALUES ('notes', :value)
                                    ON CONFLICT (name) DO UPDATE SET value = excluded.value"""),
                            {"value": json.dumps(notes)})
            session.commit()

    def fingerprints(self) -> dict[int, str]:
        """Each row's asset with the fingerprint of its document as the database holds it now when
        the row is what the database computes for it now; "" (stale) when it is not."""
        from app.search.documents import documents_of

        with Session(db.engine) as session:
            session.execute(text("CREATE TEMP TABLE fresh ON COMMIT DROP AS SELECT * FROM search_document"))
            session.execute(text("SELECT search_refresh(ARRAY(SELECT asset_id FROM fresh))"))
            rows = session.execute(text("""
                SELECT f.asset_id, d.asset_id IS NOT NULL AND ROW(f.*) IS NOT DISTINCT FROM ROW(d.*)
                FROM fresh f LEFT JOIN search_document d USING (asset_id)""")).all()
            session.rollback()  # the recomputed rows were only for comparing
            same = [asset_id for asset_id, equal in rows if equal]
            found = {d.id: d.fingerprint for d in documents_of(session, same)}
        return {asset_id: found.get(asset_id, "") for asset_id, _ in rows}

    def unreadable(self) -> list[str]:
        problems = []
        with Session(db.engine) as session:
            try:
                session.execute(text("SELECT count(*), sum(length(vector)) FROM search_document")).one()
            except DBAPIError as exc:
                problems.append(f"search_document: {exc.orig}")
            invalid = session.scalars(text("""
                SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                WHERE c.relname LIKE 'ix_search_%' AND NOT i.indisvalid""")).all()
            problems += [f"index {name} is not valid: REINDEX it" for name in invalid]
        return problems

    # caches ------------------------------------------------------------------
    @staticmethod
    def _generation(session) -> int:
        """Changes with every write to `search_document` (a sequence the triggers advance)."""
        return int(session.scalar(text("SELECT last_value FROM search_generation")))

    def _analysed(self, session, texts: set[str]) -> Mapping[str, list[tuple[str, int]]]:
        """Each text's lexemes in order, as `to_tsvector('english', …)` makes them."""
        missing = [t for t in texts if t not in self._lexemes]
        if missing:
            rows = session.execute(text("""
                SELECT t, u.lexeme, p FROM unnest(CAST(:texts AS text[])) t,
                       unnest(to_tsvector('english', t)) u, unnest(u.positions) p"""), {"texts": missing}).all()
            found: dict[str, list[tuple[str, int]]] = {t: [] for t in missing}
            for source, lexeme, position in rows:
                found[source].append((lexeme, position))
            for source, pairs in found.items():
                self._lexemes.put(source, sorted(pairs, key=lambda pair: pair[1]))
        return {t: self._lexemes.get(t, []) for t in texts}

    def _statistics(self, session) -> _Statistics:
        """The library's BM25 statistics (documents, average lengths per weight, document
        frequencies of terms), kept until the next write."""
        generation = self._generation(session)
        with self._lock:
            found = self._bm25.get(generation)
            if found is None:
                row = session.execute(text("""SELECT count(*), avg(size_a), avg(size_b), avg(size_c), avg(size_d)
                                              FROM search_document""")).one()
                found = _Statistics(int(row[0]), {w: float(v or 0) for w, v in zip("abcd", row[1:], strict=True)})
                self._bm25 = {generation: found}
        return found
