"""The index as arrays: each Whoosh segment's ids, visibility, facet values and term postings read
once per process (segments never change), and a searcher's generation joined from them.

Per-posting matcher calls cost a Python call per posting; reading whoosh3's W3 blocks directly
(the version is pinned exactly) makes a block one `pickle.loads`, and a term one array.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import date
from itertools import chain, repeat

import numpy as np
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound

from app.search.whoosh import postings
from app.search.whoosh.schema import FACET_FIELDS, NO_EXPIRY


class LRU:
    """A thread-safe least-recently-used map, bounded by the total weight of what it holds."""

    def __init__(self, limit: int, weigh: Callable[[object], int] = lambda value: 1):
        self.limit = limit
        self.weigh = weigh
        self.weight = 0
        self.items: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self.lock:
            if key in self.items:
                return
            self.items[key] = value
            self.weight += self.weigh(value)
            while self.weight > self.limit and len(self.items) > 1:
                _, old = self.items.popitem(last=False)
                self.weight -= self.weigh(old)

    def clear(self) -> None:
        with self.lock:
            self.items.clear()
            self.weight = 0


def nbytes(arrays: tuple[np.ndarray, ...]) -> int:
    return sum(a.nbytes for a in arrays)


def _posting_blocks(reader, fieldname: str, text: bytes):
    """The raw data tuples (id deltas, weights, values) of one term's posting blocks."""
    matcher = _segment_postings(reader, fieldname, text)
    if matcher is None:
        return
    while matcher.is_active():
        matcher._read_data()
        yield matcher._data
        matcher._next_block()


def _segment_postings(reader, fieldname: str, text: bytes):
    """A segment's own postings of one term, deleted documents included (those are masked
    per generation), or None if the term is not in the segment."""
    try:
        matcher = reader.postings(fieldname, text)
    except TermNotFound:
        return None
    return matcher.child if isinstance(matcher, FilterMatcher) else matcher


def _concat(parts: list, dtype) -> np.ndarray:
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype=dtype)


class Segment:
    """One Whoosh segment as arrays, read once per process: segments never change (their
    deletions are kept beside them and applied per generation, see `Generation`)."""

    def __init__(self, reader, cache: LRU):
        self.key = reader.segment().segment_id()
        self.cache = cache
        self.size = size = reader.doc_count_all()
        self.ids = np.zeros(size, dtype=np.int64)
        self.published = np.zeros(size, dtype=bool)
        self.expires = np.zeros(size, dtype=np.int64)
        self.updated = np.zeros(size, dtype=np.int64)
        for docnum in range(size):
            stored = reader.stored_fields(docnum)
            if stored:
                self.ids[docnum] = int(stored["id"])
                self.published[docnum] = bool(stored.get("published"))
                self.expires[docnum] = stored.get("expires", NO_EXPIRY)
                self.updated[docnum] = stored.get("updated", 0)
        self.facets: dict[str, dict[str, np.ndarray]] = {
            facet: {term.decode("utf-8"): _block_docs([b[0] for b in _posting_blocks(reader, fieldname, term)])
                    for term in reader.lexicon(fieldname)}
            for facet, fieldname in FACET_FIELDS.items()}
        self._lengths: dict[str, np.ndarray] = {}
        self.field_lengths(reader, "text")  # every query needs them; the reader is at hand now

    def field_lengths(self, reader, fieldname: str) -> np.ndarray:
        """Each document's length in a field, as BM25 sees it (Whoosh keeps it to a byte)."""
        if fieldname not in self._lengths:
            self._lengths[fieldname] = np.array(
                [reader.doc_field_length(d, fieldname, 0) or 0 for d in range(self.size)], dtype=np.float32)
        return self._lengths[fieldname]

    def term(self, reader, fieldname: str, text: bytes) -> tuple[np.ndarray, np.ndarray]:
        """(document numbers, weights) of one term's postings in this segment."""
        found = self.cache.get((self.key, fieldname, text, "weights"))
        return found if found is not None else self._read(reader, fieldname, text, positions=False)

    def occurrences(self, reader, fieldname: str, text: bytes) -> np.ndarray:
        """Every occurrence of one term in this segment as document << 32 | position, sorted."""
        found = self.cache.get((self.key, fieldname, text, "occurrences"))
        return found[0] if found is not None else self._read(reader, fieldname, text, positions=True)

    def _read(self, reader, fieldname: str, text: bytes, positions: bool):
        """Read one term's blocks once, caching its weights (and occurrences when asked).

        The blocks' tuples are gathered first and turned into arrays once per term: a few
        NumPy calls per block were a third of reading a common word."""
        ids, weights, values = [], [], []
        for block_ids, block_weights, block_values in _posting_blocks(reader, fieldname, text):
            ids.append(block_ids)
            weights.append(block_weights if isinstance(block_weights, tuple)
                           else repeat(1.0 if block_weights is None else block_weights, len(block_ids)))
            values.append(block_values)
        docs = _block_docs(ids)
        found = (docs, np.fromiter(chain.from_iterable(weights), dtype=np.float32, count=len(docs)))
        self.cache.put((self.key, fieldname, text, "weights"), found)
        if not positions:
            return found
        counts, occurrence_positions = _block_positions(tuple(chain.from_iterable(values)))
        keys = (np.repeat(docs, counts) << 32) | occurrence_positions
        self.cache.put((self.key, fieldname, text, "occurrences"), (keys,))
        return keys


def _block_docs(ids: list[tuple[int, ...]]) -> np.ndarray:
    """Document numbers from posting blocks' id tuples, which are delta-coded from 0 within each
    block: one running sum, less what it carried over from the blocks before."""
    lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
    total = int(lengths.sum())
    running = np.cumsum(np.fromiter(chain.from_iterable(ids), dtype=np.int64, count=total))
    if not total:
        return running
    carried = np.concatenate(([0], running[np.cumsum(lengths)[:-1] - 1]))
    return running - np.repeat(carried, lengths)


def _block_positions(values: tuple[bytes, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Occurrences per posting and every position, from postings' `PackedPositions` values."""
    counts = np.fromiter(map(len, values), dtype=np.int64, count=len(values)) >> 2
    return counts, np.frombuffer(b"".join(values), dtype="<u4").astype(np.int64)


class Generation:
    """One searcher's view of the index as arrays over its document numbers: which are live
    and visible, their asset ids, facet values, field lengths, and term postings on demand."""

    def __init__(self, searcher, segments: Callable):
        self.searcher = searcher
        self.size = searcher.doc_count_all()
        self.parts = [(segments(leaf.reader()), leaf.reader(), offset)
                      for leaf, offset in searcher.leaf_searchers()
                      if leaf.reader().segment() is not None]  # an empty index has no segment
        self.alive = np.ones(self.size, dtype=bool)
        for _segment, reader, offset in self.parts:
            if reader.has_deletions():
                self.alive[[offset + d for d in reader.segment().deleted_docs()]] = False
        self.ids = self._joined("ids", np.int64)
        self.updated = self._joined("updated", np.int64)
        self._lengths: dict[str, np.ndarray] = {}
        self._published = self._joined("published", bool) & self.alive
        self._expires = self._joined("expires", np.int64)
        values: dict[str, dict[str, list]] = {facet: {} for facet in FACET_FIELDS}
        for segment, _reader, offset in self.parts:
            for facet, by_value in segment.facets.items():
                for value, docs in by_value.items():
                    values[facet].setdefault(value, []).append(docs + offset)
        self.facets = postings.FacetColumns(
            {f: {v: _concat(d, np.int64) for v, d in by_value.items()} for f, by_value in values.items()},
            self.size)
        self._visible: tuple[date, np.ndarray, set] | None = None

    def _joined(self, name: str, dtype) -> np.ndarray:
        return _concat([getattr(segment, name) for segment, _r, _o in self.parts], dtype)

    def allowed(self, visible_on: date | None) -> np.ndarray:
        """Mask of live documents, and of those only the ones visible on `visible_on` when given."""
        return self.alive if visible_on is None else self._visibility(visible_on)[0]

    def allowed_docs(self, visible_on: date | None) -> set[int] | None:
        """The same as a set of document numbers, for Whoosh's `filter=` (None: no filter)."""
        return None if visible_on is None else self._visibility(visible_on)[1]

    def _visibility(self, day: date) -> tuple[np.ndarray, set[int]]:
        if self._visible is None or self._visible[0] != day:
            mask = self._published & (self._expires >= int(day.strftime("%Y%m%d")))
            self._visible = (day, mask, set(np.flatnonzero(mask).tolist()))
        return self._visible[1:]

    def term(self, fieldname: str, text: str, boost: float = 1.0) -> postings.Hits:
        """One term's matches with BM25 scores."""
        field = self.searcher.schema[fieldname]
        try:
            btext = field.to_bytes(text)
        except ValueError:
            return postings.Hits.none(self.size)
        docs, weights = [], []
        for segment, reader, offset in self.parts:
            d, w = segment.term(reader, fieldname, btext)
            docs.append(d + offset)
            weights.append(w)
        docs_all, tf = _concat(docs, np.int64), _concat(weights, np.float32)
        if not len(docs_all):
            return postings.Hits.none(self.size)
        if not field.scorable:
            return postings.Hits.of(self.size, docs_all, np.full(len(docs_all), boost, np.float32))
        scores = postings.bm25(tf, self.field_lengths(fieldname)[docs_all], self.size, len(docs_all),
                               self.searcher.avg_field_length(fieldname) or 1.0, boost)
        return postings.Hits.of(self.size, docs_all, scores)

    def field_lengths(self, fieldname: str) -> np.ndarray:
        if fieldname not in self._lengths:
            self._lengths[fieldname] = _concat([segment.field_lengths(reader, fieldname)
                                                for segment, reader, _o in self.parts], np.float32)
        return self._lengths[fieldname]

    def occurrences(self, fieldname: str, text: str) -> np.ndarray:
        """Every occurrence of one term as document << 32 | position, sorted."""
        btext = self.searcher.schema[fieldname].to_bytes(text)
        return _concat([segment.occurrences(reader, fieldname, btext) + (offset << 32)
                        for segment, reader, offset in self.parts], np.int64)
