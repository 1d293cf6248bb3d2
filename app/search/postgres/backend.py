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

import numpy as np
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.extensions import db
from app.search.backend import Changes, Document, Match, Progress, Query, Vocabulary, Word, any_of
from app.search.postgres import bm25, tsquery
from app.search.postgres.arrays import Library, Mirror

BATCH = 500  # assets recomputed per statement in a rebuild
CACHE_ENTRIES = 20_000  # analysed texts and document frequencies kept per process
NEAR = 20  # trigram neighbours of a misspelt word considered
KEY_TERMS = 8  # "more like this": of an asset's KEY_TERM_CANDIDATES commonest words, the best by tf·idf
KEY_TERM_CANDIDATES = 40
# Neighbouring-word pairs (backend.Query.pairs) add to the score of the best rows by everything
# else only: checking a phrase in every match of common words was most of a long query's time.
PAIR_DEPTH = 500


class _Bounded(dict):
    """A dict that forgets everything once it holds CACHE_ENTRIES (cheap, and enough here)."""

    def put(self, key, value):
        if len(self) >= CACHE_ENTRIES:
            self.clear()
        self[key] = value


def _vector_check(session, library: Library) -> bm25.VectorCheck:
    """Which of the masked positions' vectors hold a tsquery, as the database has them now."""
    def check(mask: np.ndarray, query: str) -> np.ndarray:
        held = np.zeros(library.size, bool)
        ids = library.ids[mask]
        if len(ids):
            found = session.scalars(text("""
                SELECT asset_id FROM search_document
                WHERE asset_id = ANY(CAST(:ids AS integer[])) AND vector @@ CAST(:query AS tsquery)"""),
                {"ids": ids.tolist(), "query": query}).all()
            at, inside = library.position(np.array(found, np.int64))
            held[at[inside]] = True
        return held
    return check


def visible_sql(visible_on: date | None) -> tuple[str, dict]:
    if visible_on is None:
        return "TRUE", {}
    return "published AND (expires_on IS NULL OR expires_on >= :day)", {"day": visible_on}


class PostgresBackend:
    """Search in PostgreSQL; see `app.search.backend.Backend` for what each method promises."""

    def __init__(self, cache_mb: int = 0):
        self._lock = threading.Lock()
        self._lexemes = _Bounded()  # text → [(lexeme, position)]: the english configuration's analysis
        self._cache_mb = cache_mb
        self._mirror = Mirror(cache_mb)  # this process's arrays of the search tables (arrays.py)

    # answering ---------------------------------------------------------------
    def forget(self) -> None:
        """Drop this process's copy of the search tables (a benchmark's new process; read again on
        the next search)."""
        self._mirror = Mirror(self._cache_mb)

    def match(self, query: Query) -> Match:
        return self._match(query, self._analysed(db.session, tsquery.texts_of(query.match) | {
            t for node in (*query.slots, *query.pairs) for t in tsquery.texts_of(node)}))

    def _match(self, query: Query, lexemes: Mapping[str, list[tuple[str, int]]]) -> Match:
        with self._mirror.lock:  # the arrays are patched in place: one search at a time per process
            return self._answer(self._mirror.current(db.session), query, lexemes)

    def _answer(self, library: Library, query: Query, lexemes: Mapping[str, list[tuple[str, int]]]) -> Match:
        """The query evaluated on `library` (the mirror's lock held)."""
        session = db.session
        pairs = query.pairs if query.pair_weight else ()
        keys: dict[bm25.Key, None] = {}
        for node in (query.match, *(query.slots if query.coverage else ()), *pairs):
            bm25.keys_of(node, lexemes, keys)
        entries = self._mirror.postings(session, list(keys))
        evaluator = bm25.Evaluator(library, lexemes, entries, _vector_check(session, library))
        return bm25.ranked(evaluator, query, pairs, PAIR_DEPTH)

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
        with self._mirror.lock:  # one look at the database for the weighing and the search
            library = self._mirror.current(session)
            entries = self._mirror.postings(session, [("lexeme", lexeme) for lexeme, _ in candidates])
            documents, weighed = library.count(), []
            for lexeme, count in candidates:  # rare in the library's text, as the Whoosh backend judges it
                df = bm25.frequency(entries["lexeme", lexeme], "cd")
                if df > 1:
                    weighed.append((int(count) * bm25.idf(documents, df - 1), lexeme))
            weighed.sort(key=lambda pair: (-pair[0], pair[1]))
            if not weighed:
                return []
            best = weighed[0][0]
            words = [Word(lexeme, weight=round(w / best, 6)) for w, lexeme in weighed[:KEY_TERMS]]
            found = self._answer(library, Query(match=any_of(words), visible_on=visible_on, limit=limit + 1),
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
            # which transaction wrote a row is not what the row says
            session.execute(text("UPDATE fresh f SET written = d.written FROM search_document d "
                                 "WHERE d.asset_id = f.asset_id"))
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
