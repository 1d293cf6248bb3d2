"""The index as arrays: each Whoosh segment's ids, visibility, facet values and term postings read
once per process (segments never change), and a searcher's generation joined from them.

Per-posting matcher calls cost a Python call per posting; reading whoosh3's W3 blocks directly
(the version is pinned exactly) makes a block one `pickle.loads`, and a term one array.
"""
from __future__ import annotations

import functools
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import date
from itertools import chain, repeat
from pathlib import Path

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound
from whoosh.util.numeric import _length_byte_cache

from app.search import postings
from app.search.backend import TEXT_FIELDS, NeedsRebuild, Unreadable, dimension_facet
from app.search.whoosh import prepared
from app.search.whoosh.schema import FACET_FIELDS, NO_EXPIRY, TERM_FIELD

log = logging.getLogger(__name__)
BYTE_TO_LENGTH = np.array(_length_byte_cache, dtype=np.float32)  # Whoosh keeps a field's length in a byte
SHORT_FIELDS = ("title", "keywords", "taxonomy")
NOTHING = (np.zeros(0, np.int64), np.zeros(0, np.float32))


def reading(method):
    """Turn whatever a damaged file makes Whoosh or pickle raise into `Unreadable`."""
    @functools.wraps(method)
    def read(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except (NeedsRebuild, Unreadable):
            raise
        except Exception as exc:  # a damaged block raises pickle, struct, zlib, index or type errors
            raise Unreadable(f"{method.__qualname__}: {exc!r}") from exc
    return read


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
    if len(parts) == 1:  # one segment, the usual case: no copy
        return parts[0].astype(dtype, copy=False)
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype=dtype)


def read_columns(reader, size: int) -> prepared.Columns:
    """A segment's ids, visibility, update times and facet values, read from Whoosh: a stored-fields
    lookup per document (what `prepared` saves a new process)."""
    ids = np.zeros(size, dtype=np.int64)
    published = np.zeros(size, dtype=bool)
    expires = np.zeros(size, dtype=np.int64)
    updated = np.zeros(size, dtype=np.int64)
    for docnum in range(size):
        stored = reader.stored_fields(docnum)
        if stored:
            ids[docnum] = int(stored["id"])
            published[docnum] = bool(stored.get("published"))
            expires[docnum] = stored.get("expires", NO_EXPIRY)
            updated[docnum] = stored.get("updated", 0)
    facets: dict[str, dict[str, np.ndarray]] = {
        facet: {term.decode("utf-8"): _facet_docs(reader, fieldname, term) for term in reader.lexicon(fieldname)}
        for facet, fieldname in FACET_FIELDS.items()}
    for token in reader.lexicon(TERM_FIELD):  # "<dimension id>:<term id>": a facet per dimension
        dimension, _, term = token.decode("utf-8").partition(":")
        facets.setdefault(dimension_facet(int(dimension)), {})[term] = _facet_docs(reader, TERM_FIELD, token)
    return prepared.Columns(ids, published, expires, updated, facets)


def _facet_docs(reader, fieldname: str, term: bytes) -> np.ndarray:
    return _block_docs([b[0] for b in _posting_blocks(reader, fieldname, term)])


class Segment:
    """One Whoosh segment as arrays, read once per process: segments never change (their
    deletions are kept beside them and applied per generation, see `Generation`)."""

    @reading
    def __init__(self, reader, cache: LRU, folder: Path | None = None):
        """`folder`: where the index keeps its segments' prepared columns (`prepared`); read from
        there when present, else read from Whoosh and written there for the next process."""
        self.key = reader.segment().segment_id()
        self.cache = cache
        self.size = size = reader.doc_count_all()
        columns = prepared.load(folder, self.key, size) if folder is not None else None
        if columns is None:
            columns = read_columns(reader, size)
            if folder is not None:
                try:
                    prepared.save(folder, self.key, columns)
                except OSError as exc:  # a read-only or full disk: the next process reads Whoosh too
                    log.warning("could not keep the search arrays of segment %s: %r", self.key, exc)
        self.ids, self.published, self.expires = columns.ids, columns.published, columns.expires
        self.updated, self.facets = columns.updated, columns.facets
        # Every query needs every text field's lengths; the reader is at hand now.
        self.lengths = {fieldname: _field_lengths(reader, fieldname, size) for fieldname in TEXT_FIELDS}
        # The words of the short fields: most query words are in none of them, and looking a word up
        # in a segment's term table costs more than reading a short posting list.
        self.present = {fieldname: frozenset(reader.lexicon(fieldname)) for fieldname in SHORT_FIELDS}
        self._words: dict[str, int] | None = None

    @reading
    def words(self, reader) -> dict[str, int]:
        """The segment's spelling words with how many of its documents hold each (deleted ones too)."""
        if self._words is None:
            self._words = {text.decode("utf-8"): info.doc_frequency() for text, info in reader.iter_field("spell")}
        return self._words

    def term(self, reader, fieldname: str, text: bytes) -> tuple[np.ndarray, np.ndarray]:
        """(document numbers, weights) of one term's postings in this segment."""
        if fieldname in self.present and text not in self.present[fieldname]:
            return NOTHING
        found = self.cache.get((self.key, fieldname, text, "weights"))
        return found if found is not None else self._read(reader, fieldname, text, positions=False)

    def occurrences(self, reader, fieldname: str, text: bytes) -> np.ndarray:
        """Every occurrence of one term in this segment as document << 32 | position, sorted."""
        if fieldname in self.present and text not in self.present[fieldname]:
            return NOTHING[0]
        found = self.cache.get((self.key, fieldname, text, "occurrences"))
        return found[0] if found is not None else self._read(reader, fieldname, text, positions=True)

    @reading
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


def read_fully(reader) -> None:
    """Read everything a segment holds, so that a damaged part raises here rather than in a search."""
    for docnum in range(reader.doc_count_all()):
        reader.stored_fields(docnum)
    for fieldname in reader.indexed_field_names():
        for docnum in range(reader.doc_count_all()):
            reader.doc_field_length(docnum, fieldname, 0)
    for fieldname, text in reader.all_terms():
        positions = reader.schema[fieldname].format.supports("positions")
        for _ids, _weights, values in _posting_blocks(reader, fieldname, text):
            if positions and values and isinstance(values[0], bytes):
                _block_positions(tuple(values))


def _field_lengths(reader, fieldname: str, size: int) -> np.ndarray:
    """Each document's length in a field, as BM25 sees it: Whoosh's byte per document, read as one
    array (a call per document was most of opening a large segment)."""
    column = reader._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    if column is None:
        return np.zeros(size, dtype=np.float32)
    count = min(column._count, size)
    raw = np.zeros(size, dtype=np.uint8)
    if count:
        raw[:count] = np.frombuffer(column._dbfile.get(column._basepos, count), dtype=np.uint8)
    return BYTE_TO_LENGTH[raw]


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

    @reading
    def __init__(self, searcher, segments: Callable):
        self.searcher = searcher
        self.token = object()  # identifies this generation to what is prepared per generation
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
        self.lengths = {f: _concat([segment.lengths[f] for segment, _r, _o in self.parts], np.float32)
                        for f in TEXT_FIELDS}
        self.average_lengths = {f: float(self.lengths[f][self.alive].mean()) if self.alive.any() else 1.0
                                for f in TEXT_FIELDS}
        self._words: dict[str, int] | None = None
        self._published = self._joined("published", bool) & self.alive
        self._expires = self._joined("expires", np.int64)
        values: dict[str, dict[str, list]] = {facet: {} for facet in FACET_FIELDS}
        for segment, _reader, offset in self.parts:
            for facet, by_value in segment.facets.items():
                for value, docs in by_value.items():
                    values.setdefault(facet, {}).setdefault(value, []).append(docs + offset)
        self.facets = postings.FacetColumns(
            {f: {v: _concat(d, np.int64) for v, d in by_value.items()} for f, by_value in values.items()},
            self.size)
        self._visible: tuple[date, np.ndarray, set] | None = None
        self._frequencies: dict[tuple[str, str], int] = {}

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

    def postings(self, fieldname: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(document numbers, term frequencies) of one indexed word in one field."""
        field = self.searcher.schema[fieldname]
        try:
            btext = field.to_bytes(text)
        except ValueError:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        docs, weights = [], []
        for segment, reader, offset in self.parts:
            d, w = segment.term(reader, fieldname, btext)
            if len(d):
                docs.append(d + offset if offset else d)
                weights.append(w)
        return _concat(docs, np.int64), _concat(weights, np.float32)

    def doc_frequency(self, fieldname: str, text: str) -> int:
        """How many documents (deleted ones too) hold one indexed word in one field: read from the
        term tables once per generation, without reading its postings."""
        key = (fieldname, text)
        found = self._frequencies.get(key)
        if found is None:
            btext = self.searcher.schema[fieldname].to_bytes(text)
            found = sum(reader.doc_frequency(fieldname, btext) for _segment, reader, _offset in self.parts)
            self._frequencies[key] = found  # at most one entry per indexed word asked about
        return found

    def stored(self, docnum: int, name: str):
        """One stored value of one document (None if it has none)."""
        for _segment, reader, offset in reversed(self.parts):
            if docnum >= offset:
                return reader.stored_fields(docnum - offset).get(name)
        return None

    def occurrences(self, fieldname: str, text: str) -> np.ndarray:
        """Every occurrence of one term as document << 32 | position, sorted."""
        btext = self.searcher.schema[fieldname].to_bytes(text)
        return _concat([segment.occurrences(reader, fieldname, btext) + (offset << 32)
                        for segment, reader, offset in self.parts], np.int64)

    def words(self) -> dict[str, int]:
        """The spelling words of every segment, with how many documents hold each."""
        if self._words is None:
            merged: dict[str, int] = {}
            for segment, reader, _offset in self.parts:
                for word, count in segment.words(reader).items():
                    merged[word] = merged.get(word, 0) + count
            self._words = merged
        return self._words

    @reading
    def expand(self, fieldname: str, prefix: str, limit: int) -> list[str]:
        """Indexed words of a field starting with `prefix` (at most `limit`)."""
        found = []
        for word in self.searcher.reader().expand_prefix(fieldname, prefix):
            found.append(word.decode("utf-8") if isinstance(word, bytes) else word)
            if len(found) >= limit:
                break
        return found
