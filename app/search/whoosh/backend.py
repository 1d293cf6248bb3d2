"""Full-text search with Whoosh. The only module that imports whoosh.

The index stores nothing but each asset's id (and a fingerprint to detect drift); rows are
reloaded from the database, filters and visibility come from indexed ids and flags, and
highlights are cut from the database text. The database is the source of truth: every change
to an asset writes a `search_outbox` row in the same transaction, and after commit the rows are
drained into the index by whichever process holds the index lock (see `sync_pending`).
"""
from __future__ import annotations

import gc
import hashlib
import json
import logging
import os
import pickle
import re
import shutil
import sys
import threading
import uuid
import warnings
import weakref
from array import array
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date
from itertools import chain, repeat
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
from flask import Flask, current_app
from markupsafe import Markup
from sqlalchemy import delete, event, func, insert, select
from sqlalchemy.orm import Session, selectinload
from whoosh import qparser, query
from whoosh.analysis import StandardAnalyzer, StemmingAnalyzer
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3Codec, W3PostingsWriter
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.formats import Positions
from whoosh.index import LockError
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound
from whoosh.util.numeric import length_to_byte

from app.extensions import db
from app.models import (
    Asset,
    AssetStatus,
    AssetVersion,
    SearchOutbox,
    Segment,
    Stage,
    asset_segment,
    asset_stage,
    utcnow,
)
from app.search.whoosh import postings

log = logging.getLogger(__name__)

SCHEMA_VERSION = "8"
MAX_QUERY_CHARS = 200
RERANK_DEPTH = 200
QUERY_CACHE_SIZE = 256
NO_EXPIRY = 99991231
FACETS = ("segment", "stage", "kind", "product")
SORTS = ("relevance", "most_used", "top_rated", "newest")
SNIPPET_SOURCE_CHARS = 60_000
ANALYZER = StemmingAnalyzer()
SPELL_ANALYZER = StandardAnalyzer(minsize=3)
# Searched by default: one field, because every extra field multiplies Whoosh's matcher work
# (measured: two fields took twice as long as one on broad queries). The keywords (title, tags,
# product, segment and stage names, kind) are written KEYWORD_WEIGHT times ahead of the body
# text, which weighs them like a field boost; a separator token keeps phrases from spanning
# the copies.
TEXT_FIELDS = {"text": 1.0}
KEYWORD_WEIGHT = 3
SEPARATOR = "xsepx"
FIELD_ALIASES = {"tag": "tags"}
FACET_FIELDS = {"segment": "segment", "stage": "stage", "kind": "kind", "product": "product_facet"}


class _PostingsWriter(W3PostingsWriter):
    """whoosh3's postings writer, each block pickled with protocol 5 instead of 2, and not
    compressed. Protocol 2 has no opcode for byte strings: each posting's positions became a
    call to `codecs.encode` on a latin-1 text, and unpickling a block of 128 postings took
    107 µs; with protocol 5, 10 µs (zlib, which Whoosh applies by default, was another half of
    the reading). Whoosh's reader unpickles any protocol, so segments written either way read
    alike; everything else is written as whoosh3 3.54.0 (pinned) writes it."""

    def _write_block(self, last: bool = False) -> None:
        if not self._blockcount:
            self._postfile.write(WHOOSH3_HEADER_MAGIC)
        self._terminfo.add_block(self)
        data = pickle.dumps((self._mini_ids(), self._mini_weights(), self._mini_values()), 5)
        info = pickle.dumps((len(self._ids), self._ids[-1], self._maxweight, 0,
                             length_to_byte(self._minlength), length_to_byte(self._maxlength)), 5)
        length = len(info) + len(data)
        self._postfile.write_int(-length if last else length)  # negative: the term's last block
        self._postfile.write(info)
        self._postfile.write(data)
        self._blockcount += 1
        self._new_block()


class Codec(W3Codec):
    """Whoosh's W3 codec writing postings with `_PostingsWriter`."""

    def __init__(self):
        super().__init__(compression=0)

    def postings_writer(self, dbfile, byteids=False):
        return _PostingsWriter(dbfile, blocklimit=self._blocklimit, byteids=byteids, compression=0,
                               inlinelimit=self._inlinelimit)


WRITER_OPTIONS = {"codec": Codec()}


def _storage(path: str) -> FileStorage:
    """The index directory, read without mmap. With mmap, Whoosh copies every part of a
    compound segment into memory each time a searcher opens (77 ms at 10,000 assets, 2 s at
    100,000, after every edit); without, the parts are read in place from the segment's one
    file, which stays open, so a merge deleting it meanwhile cannot pull files from under a
    searcher (separate, lazily opened segment files could: measured as 500s under load)."""
    return FileStorage(path, supports_mmap=False)


class PackedPositions(Positions):
    """Whoosh's positions format with each posting's positions packed as little-endian 32-bit
    integers instead of a pickled list of deltas: a block of postings then decodes as one
    array (`np.frombuffer` over the joined values), where pickled lists cost a Python object
    per position (the positions of a word in every document of 100,000 took 565 ms). The
    frequency is the value's length; Whoosh's own matchers decode through the same methods."""

    def encode(self, poslist) -> bytes:
        packed = array("I", poslist)
        if sys.byteorder == "big":
            packed.byteswap()
        return packed.tobytes()

    def decode_positions(self, valuestring: bytes) -> list[int]:
        return np.frombuffer(valuestring, dtype="<u4").tolist()

    def decode_frequency(self, valuestring: bytes) -> int:
        return len(valuestring) // 4


def _text_field() -> TEXT:
    text = TEXT(analyzer=ANALYZER)
    text.format = PackedPositions(field_boost=text.format.field_boost)
    return text


def make_schema() -> Schema:
    return Schema(
        id=ID(stored=True, unique=True),
        fingerprint=STORED(),
        text=_text_field(),
        title=TEXT(analyzer=ANALYZER, phrase=False),  # for title: queries and suggestions
        tags=KEYWORD(lowercase=True, commas=True, scorable=True),  # for tag: queries
        spell=TEXT(analyzer=SPELL_ANALYZER, phrase=False),  # unstemmed words for "Did you mean"
        segment=KEYWORD(commas=True),
        stage=KEYWORD(commas=True),
        kind=ID(),
        product_facet=ID(),
        status=ID(stored=True),
        expires=NUMERIC(int, bits=32, stored=True),
        updated=NUMERIC(int, bits=64, stored=True),
    )


# --------------------------------------------------------------------------- documents

def document_for(asset: Asset) -> dict:
    """The index entry of one asset, built from the database row."""
    version = asset.current_version
    names = [s.name for s in asset.segments] + [s.name for s in asset.stages]
    doc = {
        "id": str(asset.id),
        "text": _weighted_text(
            " ".join([asset.title, " ".join(asset.tags or []), asset.product or "", " ".join(names),
                      asset.kind_label]),
            "\n".join(filter(None, [asset.description, asset.body, version.text if version else ""]))),
        "title": asset.title,
        "tags": ",".join(asset.tags or []),
        "spell": " ".join([asset.title, asset.description or "", " ".join(asset.tags or []),
                           asset.product or "", " ".join(names)]),
        "segment": ",".join(str(s.id) for s in asset.segments),
        "stage": ",".join(str(s.id) for s in asset.stages),
        "kind": asset.kind,
        "product_facet": asset.product or "",
        "status": asset.status,
        "expires": int(asset.expires_on.strftime("%Y%m%d")) if asset.expires_on else NO_EXPIRY,
        "updated": int(asset.updated_at.timestamp() * 1000),
    }
    doc["fingerprint"] = hashlib.sha1(json.dumps(doc, sort_keys=True).encode()).hexdigest()
    return {k: v for k, v in doc.items() if v != ""}


def _weighted_text(keywords: str, body: str) -> str:
    return f" {SEPARATOR} ".join([keywords] * KEYWORD_WEIGHT + [body])


def _load_assets(session: Session, ids: Iterable[int] | None = None):
    stmt = select(Asset).options(selectinload(Asset.segments), selectinload(Asset.stages),
                                 selectinload(Asset.versions)).order_by(Asset.id)
    if ids is not None:
        stmt = stmt.where(Asset.id.in_(list(ids)))
    return session.scalars(stmt)


# --------------------------------------------------------------------------- the index

class _LRU:
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


def _nbytes(arrays: tuple[np.ndarray, ...]) -> int:
    return sum(a.nbytes for a in arrays)


class _SearcherSlot:
    """One thread's searcher, closed when the thread ends (a threaded server's request threads
    come and go) as well as when the index changes: it holds open segment files."""

    def __init__(self, searcher):
        self.searcher = searcher
        self.close = weakref.finalize(self, searcher.close)


class SearchIndex:
    """One process's handle on the on-disk index: opening, rebuilding, a reused searcher."""

    def __init__(self, root: Path, term_cache_mb: int, build_mb: int):
        """`term_cache_mb` bounds the term postings kept in memory; `build_mb` is what each
        indexing process of a rebuild may sort in memory (both from app/config.py)."""
        self.root = root
        self.build_mb = build_mb
        self.link = root / "current"
        self._local = threading.local()  # one reused searcher (and its caches) per thread
        # Segments never change, so what was read of them serves every later searcher; a
        # segment is forgotten once no generation uses it (merged away or a rebuilt index).
        self._segments: weakref.WeakValueDictionary[str, _Segment] = weakref.WeakValueDictionary()
        self._segments_lock = threading.Lock()
        self._terms = _LRU(term_cache_mb << 20, weigh=_nbytes)  # term postings of every segment

    @property
    def _searcher(self):
        slot = getattr(self._local, "slot", None)
        return slot.searcher if slot is not None else None

    def _per_searcher(self, name: str, searcher, make: Callable):
        """This thread's `name` object for `searcher`, made anew when the searcher changes."""
        cached = getattr(self._local, name, None)
        if cached is None or cached[0] is not searcher:
            cached = (searcher, make())
            setattr(self._local, name, cached)
        return cached[1]

    def query_cache(self, searcher) -> "_LRU":
        """Query matches, valid while `searcher` is current."""
        return self._per_searcher("queries", searcher, lambda: _LRU(QUERY_CACHE_SIZE))

    def generation(self, searcher) -> "_Generation":
        """The searcher's documents as arrays; only segments new to this process are read."""
        return self._per_searcher("generation", searcher, lambda: _Generation(searcher, self._segment))

    def _segment(self, reader) -> "_Segment":
        key = reader.segment().segment_id()  # random per segment, unique across indexes
        with self._segments_lock:
            found = self._segments.get(key)
        if found is None:
            found = _Segment(reader, self._terms)
            with self._segments_lock:
                self._segments[key] = found
        return found

    # opening -----------------------------------------------------------------
    def _version_ok(self) -> bool:
        marker = self.link / "SCHEMA_VERSION"
        return marker.is_file() and marker.read_text().strip() == SCHEMA_VERSION

    def open(self):
        """The index, rebuilt from the database if it is missing, corrupt or of an old schema."""
        ix = self._try_open() if self._version_ok() else None
        if ix is None:
            self.rebuild()
            ix = _storage(self.current_dir()).open_index()
        return ix

    def _try_open(self):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)  # whoosh leaks a handle on bad files
            try:
                ix = _storage(self.current_dir()).open_index()
                ix.doc_count_all()  # reads the table of contents and segment info
                return ix
            except Exception as exc:  # whoosh raises many kinds on damaged files
                log.warning("search index unreadable (%s); rebuilding from the database", str(exc))
            gc.collect()  # close what the failed open left behind, while warnings are off
        return None

    def current_dir(self) -> str:
        """The real directory behind `current`: an open index must not follow a later swap."""
        return os.path.realpath(self.link)

    def searcher(self):
        """A searcher reused across requests, reopened when the index has changed.

        (Whoosh's `refresh()` reuses segment readers and then misses new deletions in them,
        so a changed index always gets a fresh searcher.)
        """
        current = self._searcher
        if current is not None and self._local.dir == self.current_dir() and current.up_to_date():
            return current
        self.reset()
        self._local.slot = _SearcherSlot(self.open().searcher())
        self._local.dir = self.current_dir()
        return self._searcher

    def reset(self) -> None:
        """Close this thread's searcher (others notice the new index on their next refresh)."""
        slot = getattr(self._local, "slot", None)
        if slot is not None:
            slot.close()
        self._local.slot = None

    def forget(self) -> None:
        """Start cold, as a new process would: no searcher, no segment arrays, no term postings."""
        self.reset()
        for name in ("generation", "queries"):
            setattr(self._local, name, None)
        with self._segments_lock:
            self._segments.clear()
        self._terms.clear()

    # writing -----------------------------------------------------------------
    def rebuild(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Build a fresh index from the database in a new directory and swap it in atomically.

        The old index's write lock is held throughout, so no other process drains the outbox
        into the old directory meanwhile; what they queued is drained into the new one after.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        old_writer = None
        old_index = self._try_open() if self._version_ok() else None
        if old_index is not None:
            try:
                old_writer = old_index.writer(timeout=30.0)
            except LockError:  # locked for too long: build anyway
                old_writer = None
        try:
            count = self._build_into(self.root / f"index-{uuid.uuid4().hex}", progress)
        finally:
            if old_writer is not None:
                old_writer.cancel()
        self.reset()
        self._remove_stale_dirs()
        sync_pending(self)
        return count

    def _build_into(self, target: Path, progress) -> int:
        target.mkdir(parents=True)
        ix = _storage(str(target)).create_index(make_schema())
        with Session(db.engine) as session:
            total = session.scalar(select(func.count()).select_from(Asset))
            # Two indexing processes when it pays (measured 383 → 610 docs/s on 2 cores), each
            # sorting its postings in memory up to build_mb (spilled runs were merged one
            # posting at a time: 100,000 assets built at 252-357/s spilled, 511/s not).
            procs = min(os.cpu_count() or 1, 2) if total > 2000 else 1
            writer = ix.writer(limitmb=self.build_mb, procs=procs, multisegment=procs > 1, **WRITER_OPTIONS)
            done = 0
            for asset in _load_assets(session):
                writer.add_document(**document_for(asset))
                done += 1
                if progress and (done % 50 == 0 or done == total):
                    progress(done, total)
            writer.commit()
        (target / "SCHEMA_VERSION").write_text(SCHEMA_VERSION)
        tmp_link = self.root / f"current.{uuid.uuid4().hex}"
        os.symlink(target.name, tmp_link)
        os.replace(tmp_link, self.link)  # atomic: readers see the old or the new index, never neither
        return done

    def _remove_stale_dirs(self, keep: int = 2) -> None:
        """Delete old index directories, keeping the newest few for searchers still open on them."""
        current = self.current_dir()
        old = sorted((p for p in self.root.glob("index-*") if str(p.resolve()) != current),
                     key=lambda p: p.stat().st_mtime, reverse=True)
        for path in old[keep - 1:]:
            shutil.rmtree(path, ignore_errors=True)

    def try_writer(self):
        """The index writer if its lock is free right now, else None (never waits)."""
        try:
            return self.open().writer(timeout=0.0, **WRITER_OPTIONS)
        except LockError:
            return None

    @staticmethod
    def apply(writer, session: Session, asset_ids: set[int]) -> None:
        """Write the given assets' current database state through `writer`."""
        found = {a.id: a for a in _load_assets(session, asset_ids)}
        for asset_id in asset_ids:
            if asset_id in found:
                writer.update_document(**document_for(found[asset_id]))
            else:
                writer.delete_by_term("id", str(asset_id))


def _posting_blocks(reader, fieldname: str, text: bytes):
    """The raw data tuples (id deltas, weights, values) of one term's posting blocks.

    Reads whoosh3's W3 codec blocks directly (the version is pinned exactly): the matcher's
    per-posting methods cost a Python call per posting, a block is one `pickle.loads`.
    """
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


class _Segment:
    """One Whoosh segment as arrays, read once per process: segments never change (their
    deletions are kept beside them and applied per generation, see `_Generation`)."""

    def __init__(self, reader, cache: _LRU):
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
                self.published[docnum] = stored.get("status") == AssetStatus.PUBLISHED.value
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


class _Generation:
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

    def visible(self) -> np.ndarray:
        """Mask of documents published and not expired today."""
        return self._visibility()[1]

    def visible_docs(self) -> set[int]:
        """The same as a set of document numbers, for Whoosh's `filter=`."""
        return self._visibility()[2]

    def _visibility(self):
        today = date.today()
        if self._visible is None or self._visible[0] != today:
            mask = self._published & (self._expires >= int(today.strftime("%Y%m%d")))
            self._visible = (today, mask, set(np.flatnonzero(mask).tolist()))
        return self._visible

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


def init_app(app: Flask) -> None:
    """Attach this process's index handle to the app and keep the index following commits."""
    app.extensions["search"] = SearchIndex(app.config["DATA_DIR"] / "search-index",
                                           app.config["SEARCH_CACHE_MB"], app.config["SEARCH_BUILD_MB"])
    if not event.contains(Session, "after_flush", _queue_changes):
        event.listen(Session, "after_flush", _queue_changes)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)


def get_index() -> SearchIndex:
    return current_app.extensions["search"]


# --------------------------------------------------------------------------- following the database

def _queue_changes(session: Session, _flush_context) -> None:
    """Write outbox rows for every asset this flush touched, inside the same transaction."""
    ids: set[int] = set()
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(obj, Asset) and obj.id is not None:
            ids.add(obj.id)
        elif isinstance(obj, AssetVersion) and obj.asset_id is not None:
            ids.add(obj.asset_id)
        elif isinstance(obj, (Segment, Stage)) and obj in session.dirty and obj.id is not None:
            table, column = (asset_segment, "segment_id") if isinstance(obj, Segment) else (asset_stage, "stage_id")
            ids.update(session.connection().scalars(select(table.c.asset_id).where(table.c[column] == obj.id)))
    if ids:
        session.connection().execute(insert(SearchOutbox), [{"asset_id": i, "created_at": utcnow()} for i in ids])
        session.info["search_pending"] = True


def _after_commit(session: Session) -> None:
    if session.info.pop("search_pending", False):
        try:
            sync_pending(get_index())
        except Exception:  # the rows stay queued; the next writer or `flask search sync` drains them
            log.exception("search index update deferred")


def _after_rollback(session: Session) -> None:
    session.info.pop("search_pending", None)


def sync_pending(search_index: SearchIndex | None = None) -> int:
    """Drain the outbox into the index; returns how many assets were written.

    Only the holder of the index lock drains, and it reads the outbox after taking the lock.
    A process that finds the lock taken leaves its rows: the holder looks at the outbox again
    after releasing the lock, so every committed row is drained by its own committer or by the
    holder at that moment, and survives any exit. Outbox ids never repeat (AUTOINCREMENT), so
    deleting drained rows by id cannot touch rows queued meanwhile.
    """
    search_index = search_index or get_index()
    written = 0
    with Session(db.engine) as session:
        while session.scalar(select(SearchOutbox.id).limit(1)) is not None:
            writer = search_index.try_writer()
            if writer is None:
                return written
            try:
                rows = session.execute(select(SearchOutbox.id, SearchOutbox.asset_id)
                                       .order_by(SearchOutbox.id).limit(2000)).all()
                asset_ids = {r.asset_id for r in rows}
                search_index.apply(writer, session, asset_ids)
                writer.commit()
            except BaseException:
                writer.cancel()
                raise
            session.execute(delete(SearchOutbox).where(SearchOutbox.id.in_([r.id for r in rows])))
            session.commit()
            written += len(asset_ids)
    return written


def pending_count() -> int:
    with Session(db.engine) as session:
        return session.scalar(select(func.count()).select_from(SearchOutbox))


# --------------------------------------------------------------------------- drift

@dataclass
class Drift:
    missing: list[int] = field(default_factory=list)
    extra: list[int] = field(default_factory=list)
    stale: list[int] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.missing or self.extra or self.stale)


def indexed_fingerprints() -> dict[int, str]:
    """Every asset id in the index with the fingerprint it was indexed with."""
    searcher = get_index().searcher()
    return {int(f["id"]): f.get("fingerprint") for f in searcher.all_stored_fields()}


def check() -> Drift:
    """Compare every asset's fingerprint in the database with the index."""
    indexed = indexed_fingerprints()
    with Session(db.engine) as session:
        expected = {a.id: document_for(a)["fingerprint"] for a in _load_assets(session)}
    return Drift(
        missing=sorted(set(expected) - set(indexed)),
        extra=sorted(set(indexed) - set(expected)),
        stale=sorted(i for i in set(expected) & set(indexed) if expected[i] != indexed[i]),
    )


# --------------------------------------------------------------------------- querying

@dataclass
class SearchRequest:
    text: str = ""
    segment: list[str] = field(default_factory=list)
    stage: list[str] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    product: list[str] = field(default_factory=list)
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20
    include_hidden: bool = False  # marketers and admins see drafts, archived and expired

    def filters(self) -> dict[str, list[str]]:
        return {f: list(getattr(self, f)) for f in FACETS if getattr(self, f)}


@dataclass
class SearchHits:
    ids: list[int]
    total: int
    scores: dict[int, float]
    facets: dict[str, dict[str, int]]
    terms: list[tuple[str, str]]
    suggestion: str | None = None
    query_error: bool = False


def clean_text(raw: str) -> str:
    """Cap the length and drop control characters."""
    text = re.sub(r"[\x00-\x1f\x7f]", " ", raw or "")
    return text[:MAX_QUERY_CHARS].strip()


def _parser(schema) -> qparser.QueryParser:
    parser = qparser.MultifieldParser(list(TEXT_FIELDS), schema, group=qparser.AndGroup)
    parser.add_plugin(qparser.FieldAliasPlugin({v: [k] for k, v in FIELD_ALIASES.items()}))
    parser.remove_plugin_class(qparser.BoostPlugin)
    return parser


def parse(text: str, schema) -> tuple[query.Query | None, bool]:
    """Parse user syntax (phrases, prefix*, tag:roi); on trouble fall back to plain terms."""
    if not text:
        return None, False
    try:
        parsed = _parser(schema).parse(text)
        if parsed is not query.NullQuery:
            return parsed, False
    except Exception:  # whoosh raises several kinds on malformed input
        log.info("query fell back to plain terms: %r", text)
    plain = " ".join(re.findall(r"\w+", text))
    if not plain:
        return None, True
    return qparser.MultifieldParser(list(TEXT_FIELDS), schema, group=qparser.AndGroup,
                                    plugins=[]).parse(plain), True


def visibility_filter() -> query.Query:
    today = int(date.today().strftime("%Y%m%d"))
    return query.And([query.Term("status", AssetStatus.PUBLISHED.value),
                      query.NumericRange("expires", today, None)])


@dataclass
class _Matches:
    """What one query and filter set match in one index generation; cached per searcher."""

    parsed: query.Query | None
    fell_back: bool
    docs: np.ndarray  # document numbers passing visibility, query and facets, ascending
    scores: np.ndarray  # their text scores
    counts: dict[str, dict[str, int]]

    def best(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k best text matches and their scores, best first."""
        return postings.best(self.docs, self.scores, k)


def _match(gen: _Generation, text: str, req: SearchRequest) -> _Matches:
    """Documents passing visibility, query and facets, in text-score order, and facet counts."""
    parsed, fell_back = parse(text, gen.searcher.schema)
    hits = _evaluate(parsed, gen) if parsed is not None else postings.Hits.every(gen.alive)
    allowed = hits.mask & (gen.alive if req.include_hidden else gen.visible())
    selected = {f: set(v) for f, v in req.filters().items()}
    passing, counts = postings.facet_counts(gen.facets, allowed, selected)
    docs = np.flatnonzero(passing)
    return _Matches(parsed, fell_back, docs, hits.score[docs], counts)


def _evaluate(q: query.Query, gen: _Generation) -> postings.Hits:
    """A parsed query's matches and scores, computed on term arrays.

    Terms, AND, OR, NOT and exact phrases are evaluated here; anything else the parser can
    produce (ranges, fuzzy terms, phrases with slop) is left to Whoosh's own matcher.
    """
    size = gen.size
    if q is query.NullQuery:
        return postings.Hits.none(size)
    if isinstance(q, query.Every):
        return postings.Hits.every(gen.alive)
    if type(q) is query.Term:
        return gen.term(q.fieldname, q.text, q.boost)
    if type(q) is query.And:
        return postings.all_of([_evaluate(sub, gen) for sub in q.subqueries], size)
    if type(q) is query.Or:
        return postings.any_of([_evaluate(sub, gen) for sub in q.subqueries], size)
    if type(q) is query.Not:
        hits = postings.without(postings.Hits.every(gen.alive), _evaluate(q.query, gen))
        hits.score[hits.mask] = q.boost  # as Whoosh scores it: each document it matches, its boost
        return hits
    if type(q) is query.AndNot:
        return postings.without(_evaluate(q.a, gen), _evaluate(q.b, gen))
    if isinstance(q, (query.Prefix, query.Wildcard)):
        return _evaluate(q.simplify(gen.searcher.reader()), gen)
    if type(q) is query.Phrase and q.slop == 1 and gen.searcher.schema[q.fieldname].format.supports("positions"):
        occurrences = [gen.occurrences(q.fieldname, w) for w in q.words]  # reads weights too
        words = postings.all_of([gen.term(q.fieldname, w, q.boost) for w in q.words], size)
        docs = postings.phrase_docs(occurrences)
        keep = np.zeros(size, dtype=bool)
        keep[docs] = True
        return postings.Hits(words.mask & keep, np.where(keep, words.score, 0).astype(np.float32))
    results = gen.searcher.search(q, limit=None)
    items = list(results.items())
    return postings.Hits.of(size, np.array([d for d, _ in items], dtype=np.int64),
                            np.array([sc for _, sc in items], dtype=np.float32))


def search(req: SearchRequest, weights: Callable[[list[int], str], dict[int, float]]) -> SearchHits:
    """Ids of matching assets for one page, total, facet counts and a spelling suggestion.

    Facet counts are disjunctive: each facet's counts apply every other facet's selection, so
    choosing "Retail" still shows how many "Healthcare" assets would match. What the index
    matches is cached until the index changes; use and rating weights are applied fresh.
    """
    search_index = get_index()
    searcher = search_index.searcher()
    gen = search_index.generation(searcher)
    text = clean_text(req.text)
    key = (text, tuple(sorted((f, tuple(sorted(v))) for f, v in req.filters().items())),
           req.include_hidden, date.today())
    cache = search_index.query_cache(searcher)
    matches = cache.get(key)
    if matches is None:
        matches = _match(gen, text, req)
        cache.put(key, matches)
    ids, scores = _rank(gen, matches, req, weights)
    visible = gen.alive if req.include_hidden else gen.visible()
    suggestion = (_suggest_correction(gen, text, matches.parsed, visible)
                  if not len(matches.docs) and text else None)
    return SearchHits(ids=ids, total=len(matches.docs), scores=scores, facets=matches.counts,
                      terms=_terms(matches.parsed), suggestion=suggestion,
                      query_error=matches.fell_back)


def _rank(gen: _Generation, matches: _Matches, req: SearchRequest, weights) -> tuple[list[int], dict]:
    """Order the passing documents and cut out the requested page.

    `weights(ids, sort)` gives per-asset multipliers for relevance (use and rating) or the
    sort key for "most_used" and "top_rated"; it comes from the database, not the index.
    Relevance re-ranks the best RERANK_DEPTH text matches (deeper pages keep text order).
    """
    start = (max(1, req.page) - 1) * req.per_page
    stop = start + req.per_page
    if not len(matches.docs):
        return [], {}
    if req.sort == "newest" or (matches.parsed is None and req.sort == "relevance"):
        docs = matches.docs
        newest = docs[np.argsort(-gen.updated[docs], kind="stable")][start:stop]
        ordered = gen.ids[newest].tolist()
        return ordered, {i: 0.0 for i in ordered}
    if req.sort in ("most_used", "top_rated"):
        all_ids = gen.ids[matches.docs].tolist()
        weight = weights(all_ids, req.sort)
        ordered_ids = sorted(all_ids, key=lambda i: (-weight.get(i, 0.0), -i))[start:stop]
        return ordered_ids, {i: weight.get(i, 0.0) for i in ordered_ids}
    docs, scores = matches.best(max(RERANK_DEPTH, stop))
    head = list(zip(gen.ids[docs].tolist(), scores.tolist()))
    if stop > RERANK_DEPTH:
        ordered = head[start:stop]
        return [i for i, _ in ordered], {i: round(sc, 4) for i, sc in ordered}
    boost = weights([i for i, _ in head], "relevance")
    blended = {i: sc * boost.get(i, 1.0) for i, sc in head}
    ordered_ids = sorted(blended, key=lambda i: (-blended[i], i))[start:stop]
    return ordered_ids, {i: round(blended[i], 4) for i in ordered_ids}


def _terms(parsed) -> list[tuple[str, str]]:
    if parsed is None:
        return []
    return [(f, t if isinstance(t, str) else t.decode("utf-8")) for f, t in parsed.iter_all_terms(phrases=True)
            if f in ("text", "title", "tags") and t != SEPARATOR]


def _suggest_correction(gen: _Generation, text: str, parsed, visible: np.ndarray) -> str | None:
    """A respelled query, offered only if it finds results the user may see.

    Words are checked against unstemmed title, description, tag and segment words, so the
    suggestion reads like what the user meant ("downtime"), not like an index stem. Words one
    edit away are preferred to words two away (Whoosh ranks everything within the distance by
    frequency alone), and looking for two edits, the slow walk, happens only when one finds none.
    """
    if parsed is None:
        return None
    reader = gen.searcher.reader()
    corrector = gen.searcher.corrector("spell")
    changed = False
    words = []
    for token in re.split(r"(\W+)", text):
        lower = token.lower()
        if len(lower) >= 3 and lower.isalpha() and reader.frequency("spell", lower) == 0:
            options = (corrector.suggest(lower, limit=1, maxdist=1, prefix=1)
                       or corrector.suggest(lower, limit=1, maxdist=2, prefix=1))
            if options:
                token, changed = options[0], True
        words.append(token)
    if not changed:
        return None
    corrected_text = "".join(words)
    corrected, _ = parse(corrected_text, gen.searcher.schema)
    if corrected is None:
        return None
    return corrected_text if (_evaluate(corrected, gen).mask & visible).any() else None


def suggest(prefix: str, include_hidden: bool, limit: int = 8) -> tuple[list[int], list[str]]:
    """Ids of assets whose title starts with what was typed, and tags starting with it."""
    words = re.findall(r"\w+", clean_text(prefix).lower())
    if not words:
        return [], []
    searcher = get_index().searcher()
    stems = [_stem(w) for w in words[:-1]]
    parts = [query.Term("title", s) for s in stems if s] + [query.Prefix("title", words[-1])]
    allowed = None if include_hidden else get_index().generation(searcher).visible_docs()
    ids = [int(hit["id"]) for hit in searcher.search(query.And(parts), limit=limit, filter=allowed)]
    tag_prefix = clean_text(prefix).lower()
    tags = [t.decode("utf-8") for t in searcher.reader().expand_prefix("tags", tag_prefix)][:limit]
    return ids, tags


def _stem(word: str) -> str:
    tokens = [t.text for t in ANALYZER(word)]
    return tokens[0] if tokens else ""


def more_like(asset: Asset, include_hidden: bool, limit: int = 5) -> list[int]:
    """Ids of assets sharing the key terms of `asset`'s own database text."""
    searcher = get_index().searcher()
    docnum = searcher.document_number(id=str(asset.id))
    if docnum is None:
        return []
    text = " ".join([asset.title, asset.description, " ".join(asset.tags), asset.body,
                     asset.current_version.text[:SNIPPET_SOURCE_CHARS] if asset.current_version else ""])
    allowed = None if include_hidden else get_index().generation(searcher).visible_docs()
    results = searcher.more_like(docnum, "text", text=text, top=limit, numterms=12, filter=allowed)
    return [int(hit["id"]) for hit in results]


def snippet(text: str, terms: list[tuple[str, str]], max_chars: int = 240) -> Markup:
    """An HTML-escaped excerpt of `text` around the query's first hit, hits in <mark>.

    Words are matched on the stem's prefix ("pric" for pricing/price) with one regular
    expression: running Whoosh's analyzer over each result's text was most of a page's time.
    """
    text = (text or "")[:SNIPPET_SOURCE_CHARS]
    prefixes = sorted({t[:-1] if len(t) > 4 else t for _, t in terms if t}, key=len, reverse=True)
    pattern = match = None
    if prefixes:
        pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, prefixes)) + r")\w*", re.IGNORECASE)
        match = pattern.search(text)
    start = max(0, match.start() - max_chars // 3) if match else 0
    if start:
        start = text.find(" ", start) + 1 or start
    window = re.sub(r"\s+", " ", text[start:start + max_chars * 2]).strip()
    more = len(window) > max_chars or start + max_chars * 2 < len(text)
    window = window[:max_chars]
    parts, last = [], 0
    for hit in (pattern.finditer(window) if match else ()):
        parts.append(Markup.escape(window[last:hit.start()]))
        parts.append(Markup('<mark class="hit">{}</mark>').format(hit.group(0)))
        last = hit.end()
    parts.append(Markup.escape(window[last:]))
    return Markup("{}{}{}").format("… " if start else "", Markup("").join(parts), " …" if more else "")
