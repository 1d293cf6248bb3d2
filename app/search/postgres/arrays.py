"""A node's copy of what ranking reads from the search tables, as NumPy arrays, kept true to them.

Scoring every match in SQL cost a broad query ~5 µs per matching asset in each of its steps (the
postings summed, joined to `search_document`, scored, counted per facet: bench/README.md); the same
work on arrays is a few NumPy operations. The database stays the only source of truth: this module
holds a copy of `search_document`'s ranking columns (`Library`: ids, lengths per weight, visibility,
update times, facet values and tags; not the vectors) and of the postings it has read (`Entry`, per
key), and before each search asks the database what changed since it last read:

- every row carries the transaction that wrote it (`written`, migration 0021) and every removed row
  leaves its id in `search_gone`; a reader that remembers the oldest transaction still running when
  it last looked (`pg_snapshot_xmin`) finds each row committed since among those written at or
  after it, in whatever order the writers committed. One statement per search (each table's
  newest writer, from its index).
- rows that changed are read again and patched in place (their postings too, in every cached key);
  new assets are appended; more than `RELOAD_ABOVE` changes, or an id arriving out of order, reload
  everything. What the node's own uncommitted transaction wrote is read again on the next search
  (it may be rolled back).

A node's copy is rebuilt from the database whenever it is lost: nothing here is kept on disk.
"""
from __future__ import annotations

import bisect
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from sqlalchemy import text

RELOAD_ABOVE = 1_000  # rows changed since the last search beyond which everything is read again
POSTINGS_MB = 128  # postings kept per process when BRIDGE_SEARCH_CACHE_MB is 0 (least recently used go first)
EPOCH = date(2000, 1, 1)  # expiry dates are kept as days from it (PostgreSQL's binary dates)
NO_EXPIRY = np.iinfo(np.int32).max
WEIGHTS = "abcd"
DIMENSION = "dimension:"
# One row per asset: id, its lengths under A, B, C and D, published, expiry day, update time (µs), writer.
ROW = np.dtype([("id", ">i4"), ("a", ">i4"), ("b", ">i4"), ("c", ">i4"), ("d", ">i4"), ("published", ">i4"),
                ("expires", ">i4"), ("updated", ">i8"), ("written", ">i8")])
_ROW_SQL = """int4send(asset_id) || int4send(size_a) || int4send(size_b) || int4send(size_c) || int4send(size_d)
  || int4send(published::int) || date_send(coalesce(expires_on, 'infinity')) || timestamp_send(updated_at)
  || int8send(written)"""  # a date is sent as days from 2000-01-01 ('infinity': the largest int4), a timestamp as µs


def _ids(blob: bytes | None) -> np.ndarray:
    return np.frombuffer(blob or b"", ">i4").astype(np.int64)


@dataclass
class Entry:
    """One key's postings in this node's library: rows ascending, occurrences under A, B, C, D."""

    rows: np.ndarray  # int32
    counts: np.ndarray  # float32 (whole numbers, exact), (len(rows), 4): 20 bytes a posting

    def nbytes(self) -> int:
        return self.rows.nbytes + self.counts.nbytes


@dataclass
class Library:
    """`search_document`'s ranking columns, one position per asset, ids ascending. A removed row
    keeps its position (`alive` False) until the next reload, so positions never move."""

    ids: np.ndarray
    alive: np.ndarray
    sizes: np.ndarray  # float64, (rows, 4): lengths under A, B, C, D
    published: np.ndarray
    expires: np.ndarray  # int32 days from EPOCH
    updated: np.ndarray  # int64 µs from EPOCH
    written: np.ndarray  # int64 transaction ids
    values: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # facet → value → bool column
    tags: dict[str, np.ndarray] = field(default_factory=dict)  # tag → bool column
    averages: np.ndarray | None = None  # average lengths under A … D of the rows alive, once asked

    @property
    def size(self) -> int:
        return len(self.ids)

    def count(self) -> int:
        return int(np.count_nonzero(self.alive))

    def average(self) -> np.ndarray:
        if self.averages is None:
            alive = self.sizes[self.alive]
            self.averages = alive.mean(axis=0) if len(alive) else np.zeros(4)
        return self.averages

    def position(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(positions, found): where each asset id is, and which are here."""
        at = np.searchsorted(self.ids, ids)
        inside = at < len(self.ids)
        found = np.zeros(len(ids), dtype=bool)
        found[inside] = self.ids[at[inside]] == ids[inside]
        return at, found

    def allowed(self, visible_on: date | None) -> np.ndarray:
        if visible_on is None:
            return self.alive.copy()
        day = (visible_on - EPOCH).days
        return self.alive & self.published & (self.expires >= day)

    # patching ----------------------------------------------------------------
    def grow(self, count: int) -> None:
        """Room for `count` new assets at the end."""
        self.ids = np.concatenate((self.ids, np.zeros(count, np.int64)))
        self.alive = np.concatenate((self.alive, np.zeros(count, bool)))
        self.sizes = np.concatenate((self.sizes, np.zeros((count, 4))))
        self.published = np.concatenate((self.published, np.zeros(count, bool)))
        self.expires = np.concatenate((self.expires, np.zeros(count, np.int32)))
        self.updated = np.concatenate((self.updated, np.zeros(count, np.int64)))
        self.written = np.concatenate((self.written, np.zeros(count, np.int64)))
        for columns in (*self.values.values(), self.tags):
            for value, column in columns.items():
                columns[value] = np.concatenate((column, np.zeros(count, bool)))

    def forget(self, at: int) -> None:
        """Position `at` holds no asset."""
        self.alive[at] = False
        for columns in (*self.values.values(), self.tags):
            for column in columns.values():
                column[at] = False
        self.averages = None

    def put(self, at: int, row, values: Iterable[tuple[str, str]], tags: Iterable[str]) -> None:
        self.forget(at)
        self.ids[at] = row.asset_id
        self.alive[at] = True
        self.sizes[at] = (row.size_a, row.size_b, row.size_c, row.size_d)
        self.published[at] = row.published
        self.expires[at] = NO_EXPIRY if row.expires is None else row.expires
        self.updated[at] = row.updated
        self.written[at] = row.written
        for facet, value in values:
            self._column(self.values.setdefault(facet, {}), value)[at] = True
        for tag in tags:
            if tag is not None:  # a null in an asset's tags (plain SQL): no tag
                self._column(self.tags, tag)[at] = True

    def _column(self, columns: dict[str, np.ndarray], value: str) -> np.ndarray:
        if value not in columns:
            columns[value] = np.zeros(self.size, bool)
        return columns[value]


def term_facet(term: str) -> tuple[str, str]:
    """A taxonomy term as `search_document.terms` holds it ("<dimension id>:<term id>") as a facet value."""
    dimension, _, value = term.partition(":")
    return DIMENSION + dimension, value


def facet_values(kind: str, product: str, stages: Iterable[str], terms: Iterable[str]) -> list[tuple[str, str]]:
    """A row's (facet, value) pairs, as the facet counts name them."""
    found = [("kind", kind)] + ([("product", product)] if product else [])
    return found + [("stage", s) for s in stages] + [term_facet(t) for t in terms]


class Mirror:
    """This process's `Library` and cached postings, brought up to date before each search."""

    def __init__(self, cache_mb: int = 0):
        self.budget = (cache_mb or POSTINGS_MB) * 1024 * 1024
        self.lock = threading.RLock()
        self.library: Library | None = None
        self.seen = 0  # transactions from this id on may have written rows not yet read
        self.dirty: set[int] = set()  # assets read as this node's own uncommitted transaction left them
        self.entries: OrderedDict[tuple, Entry] = OrderedDict()
        self.held = 0

    def current(self, session) -> Library:
        """The library as the database holds it for `session` now."""
        with self.lock:
            horizon, mine, changed = session.execute(text("""
                SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint,
                       pg_current_xact_id_if_assigned()::text::bigint,
                       -- the newest writer of each table: one step down its index, whatever the statistics
                       coalesce((SELECT max(written) FROM search_document) >= :seen, false)
                       OR coalesce((SELECT max(written) FROM search_gone) >= :seen, false)"""),
                {"seen": self.seen}).one()
            try:
                if self.library is None:
                    self._load(session, mine)
                elif changed or self.dirty:
                    self._patch(session, mine)
            except BaseException:
                self.library = None  # half patched: read everything again next time
                raise
            self.seen = int(horizon)
            return self.library

    def postings(self, session, keys: list[tuple]) -> dict[tuple, Entry]:
        """Each key's postings: ("lexeme", text), ("prefix", text) (its lexemes' occurrences summed
        per asset) or ("pair", "first second") (held: counts (1, 0, 0, 0))."""
        with self.lock:
            found = {}
            for key in keys:
                entry = self.entries.get(key)
                if entry is not None:
                    self.entries.move_to_end(key)
                    found[key] = entry
            missing = [key for key in keys if key not in found]
            if missing:
                found.update(self._fetch(session, missing))
            return found

    # reading -------------------------------------------------------------------
    def _fetch(self, session, keys: list[tuple]) -> dict[tuple, Entry]:
        params: dict = {}
        branches = []
        for n, (kind, value) in enumerate(keys):
            params[f"k{n}"] = value
            if kind == "pair":
                branches.append(f"SELECT {n} AS k, string_agg(int4send(asset_id), ''::bytea) AS ids, NULL::bytea "
                                f"AS counts, 0 AS width FROM search_pair WHERE pair = :k{n}")
            elif kind == "prefix":  # its lexemes' occurrences summed per asset: may pass a smallint
                params[f"h{n}"] = value + "\U0010ffff"
                branches.append(
                    f"SELECT {n}, string_agg(int4send(asset_id), ''::bytea), string_agg(int4send(a) || int4send(b) "
                    f"|| int4send(c) || int4send(d), ''::bytea), 4 FROM (SELECT asset_id, sum(a)::int AS a, "
                    f"sum(b)::int AS b, sum(c)::int AS c, sum(d)::int AS d FROM search_posting "
                    f"WHERE lexeme >= :k{n} AND lexeme < :h{n} GROUP BY asset_id) p")
            else:  # as two strings of bytes: a third of the time of rows or arrays (bench/README.md)
                branches.append(f"SELECT {n}, string_agg(int4send(asset_id), ''::bytea), string_agg(int2send(a) "
                                f"|| int2send(b) || int2send(c) || int2send(d), ''::bytea), 2 "
                                f"FROM search_posting WHERE lexeme = :k{n}")
        found = {}
        library = self.library
        for n, ids, counts, width in session.execute(text(" UNION ALL ".join(branches)), params).all():
            asset_ids = _ids(ids)
            if width == 0:
                occurrences = np.zeros((len(asset_ids), 4), np.float32)
                occurrences[:, 0] = 1
            else:
                occurrences = np.frombuffer(counts or b"", f">i{width}").reshape(-1, 4).astype(np.float32)
            entry = _entry(library, asset_ids, occurrences)
            found[keys[n]] = entry
            self._keep(keys[n], entry)
        return found

    def _keep(self, key: tuple, entry: Entry) -> None:
        old = self.entries.pop(key, None)
        self.held += entry.nbytes() - (old.nbytes() if old is not None else 0)
        self.entries[key] = entry
        while self.held > self.budget and len(self.entries) > 1:
            _, dropped = self.entries.popitem(last=False)
            self.held -= dropped.nbytes()

    def _load(self, session, mine: int | None) -> None:
        blob = session.scalar(text(f"SELECT string_agg({_ROW_SQL}, ''::bytea) FROM search_document"))
        rows = np.frombuffer(blob or b"", ROW)
        rows = rows[np.argsort(rows["id"], kind="stable")]  # sorted here: half the statement's time in SQL
        library = Library(
            ids=rows["id"].astype(np.int64), alive=np.ones(len(rows), bool),
            sizes=np.stack([rows[w].astype(np.float64) for w in WEIGHTS], axis=1) if len(rows) else np.zeros((0, 4)),
            published=rows["published"] == 1, expires=rows["expires"].astype(np.int32),
            updated=rows["updated"].astype(np.int64), written=rows["written"].astype(np.int64))
        for kind, value, ids in session.execute(text("""
                SELECT 'kind', kind, string_agg(int4send(asset_id), ''::bytea) FROM search_document GROUP BY kind
                UNION ALL SELECT 'product', product, string_agg(int4send(asset_id), ''::bytea) FROM search_document
                  WHERE product <> '' GROUP BY product
                UNION ALL SELECT 'stage', s, string_agg(int4send(asset_id), ''::bytea)
                  FROM search_document, unnest(stages) s GROUP BY s
                UNION ALL SELECT 'term', t, string_agg(int4send(asset_id), ''::bytea)
                  FROM search_document, unnest(terms) t GROUP BY t
                UNION ALL SELECT 'tag', t, string_agg(int4send(asset_id), ''::bytea)
                  FROM search_document, unnest(tags) t WHERE t IS NOT NULL GROUP BY t""")).all():
            at, found = library.position(_ids(ids))
            column = np.zeros(library.size, bool)
            column[at[found]] = True  # a row written after the first statement is read again next time
            if kind == "tag":
                library.tags[value] = column
            else:
                facet, value = term_facet(value) if kind == "term" else (kind, value)
                library.values.setdefault(facet, {})[value] = column
        self.library = library
        self.entries.clear()
        self.held = 0
        self.dirty = set()
        if mine is not None:  # what this transaction wrote or removed may yet be rolled back
            self.dirty = set(library.ids[library.written == mine].tolist()) | set(session.scalars(
                text("SELECT asset_id FROM search_gone WHERE written = :mine"), {"mine": mine}).all())

    def _patch(self, session, mine: int | None) -> None:
        params = {"seen": self.seen, "dirty": sorted(self.dirty)}
        rows = session.execute(text("""
            SELECT asset_id, size_a, size_b, size_c, size_d, published, expires_on - DATE '2000-01-01' AS expires,
                   (extract(epoch FROM updated_at - TIMESTAMP '2000-01-01') * 1000000)::bigint AS updated, written,
                   kind, product, stages, terms, tags
            FROM search_document
            WHERE written >= :seen OR asset_id = ANY(CAST(:dirty AS integer[]))
            ORDER BY asset_id"""), params).all()
        removed = session.execute(text("""
            SELECT asset_id, written FROM search_gone
            WHERE written >= :seen OR asset_id = ANY(CAST(:dirty AS integer[]))"""), params).all()
        library = self.library
        present = {row.asset_id for row in rows}
        gone = ({asset_id for asset_id, _ in removed} | self.dirty) - present
        if len(rows) + len(gone) > RELOAD_ABOVE:
            return self._load(session, mine)
        ids = np.array(sorted(present), np.int64)
        at, found = library.position(ids)
        new = ids[~found]
        if len(new) and library.size and new.min() < library.ids.max():
            return self._load(session, mine)  # an id out of order: positions would move
        positions = dict(zip(ids[found].tolist(), at[found].tolist(), strict=True))
        if len(new):
            start = library.size
            library.grow(len(new))
            positions.update({int(i): start + n for n, i in enumerate(new)})
        changed = set()
        for row in rows:
            place = positions[row.asset_id]
            if library.alive[place] and library.written[place] == row.written and row.asset_id not in self.dirty:
                continue  # read again, not changed since
            library.put(place, row, facet_values(row.kind, row.product, row.stages, row.terms), row.tags)
            changed.add(place)
        gone_ids = np.array(sorted(gone), np.int64)
        gone_at, gone_found = library.position(gone_ids)
        for place in gone_at[gone_found].tolist():
            if library.alive[place]:
                library.forget(place)
                changed.add(place)
        self.dirty = {row.asset_id for row in rows if mine is not None and row.written == mine} | {
            asset_id for asset_id, written in removed if mine is not None and written == mine and asset_id in gone}
        if changed:
            self._repost(session, sorted(changed))

    def _repost(self, session, places: list[int]) -> None:
        """Every cached key's postings of the changed positions, read again."""
        if not self.entries:
            return
        library = self.library
        places_array = np.array(places, np.int64)
        ids = library.ids[places_array][library.alive[places_array]].tolist()
        among = "asset_id = ANY(CAST(:ids AS integer[]))"
        postings = session.execute(text(f"SELECT lexeme, asset_id, a, b, c, d FROM search_posting WHERE {among}"),
                                   {"ids": ids}).all() if ids else []
        pairs = session.execute(text(f"SELECT pair, asset_id FROM search_pair WHERE {among}"),
                                {"ids": ids}).all() if ids else []
        by_key: dict[tuple, dict[int, np.ndarray]] = {}
        for lexeme, asset_id, a, b, c, d in postings:
            by_key.setdefault(("lexeme", lexeme), {})[asset_id] = np.array((a, b, c, d), np.float32)
        for pair, asset_id in pairs:
            by_key.setdefault(("pair", pair), {})[asset_id] = np.array((1, 0, 0, 0), np.float32)
        lexemes = sorted(value for kind, value in by_key if kind == "lexeme")
        for key, entry in list(self.entries.items()):
            kind, value = key
            if kind == "prefix":  # the changed assets' lexemes with the prefix, summed per asset
                fresh: dict[int, np.ndarray] = {}
                for lexeme in lexemes[bisect.bisect_left(lexemes, value):]:
                    if not lexeme.startswith(value):
                        break
                    for asset_id, counts in by_key["lexeme", lexeme].items():
                        fresh[asset_id] = fresh.get(asset_id, 0) + counts
            else:
                fresh = by_key.get(key, {})
            at = np.searchsorted(entry.rows, places_array)
            held = at < len(entry.rows)
            held[held] = entry.rows[at[held]] == places_array[held]
            if not fresh and not held.any():
                continue  # none of the changed assets holds it, before or now
            keep = np.ones(len(entry.rows), bool)
            keep[at[held]] = False
            rows = np.concatenate((entry.rows[keep], library.position(np.fromiter(fresh, np.int64, len(fresh)))[0]
                                   .astype(np.int32)))
            counts = np.concatenate((entry.counts[keep], np.array(list(fresh.values()), np.float32).reshape(-1, 4)))
            order = np.argsort(rows, kind="stable")
            updated = Entry(rows[order], counts[order])
            self.held += updated.nbytes() - entry.nbytes()
            self.entries[key] = updated  # in place: its turn to be dropped stays where it was


def _entry(library: Library, asset_ids: np.ndarray, counts: np.ndarray) -> Entry:
    """Postings by asset id as positions in `library`, ascending; assets it does not hold yet left out
    (they are read again once it does)."""
    at, found = library.position(asset_ids)
    rows, counts = at[found].astype(np.int32), counts[found]
    if len(rows) > 1 and not np.all(rows[1:] > rows[:-1]):
        order = np.argsort(rows, kind="stable")
        rows, counts = rows[order], counts[order]
    return Entry(rows, counts)
