"""The Whoosh backend: one process's handle on the on-disk index under `<data dir>/search-index`.

The index stores each asset's id, the words to match by field, facet values, visibility and a
fingerprint; rows are reloaded from the database above it. Whoosh stores the index; queries
(already understood above the backend) are evaluated on arrays read from its segments
(`arrays`, `query`, `postings`).
The index directory is swapped atomically on rebuild (`current` is a symlink), and written
under Whoosh's lock: a process that finds it taken does not wait (the outbox keeps its rows).
"""
from __future__ import annotations

import gc
import json
import logging
import os
import re
import shutil
import threading
import uuid
import warnings
import weakref
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path

import numpy as np
from whoosh import query as whoosh_query
from whoosh.index import LockError

from app.search.backend import Changes, Document, Match, NeedsRebuild, Progress, Query, Vocabulary
from app.search.whoosh import prepared
from app.search.whoosh import query as queries
from app.search.whoosh.arrays import LRU, Generation, Segment, nbytes, read_fully, reading
from app.search.whoosh.codec import WRITER_OPTIONS, storage
from app.search.whoosh.schema import SCHEMA_VERSION, fields_of, make_schema

log = logging.getLogger(__name__)

AUTO_CACHE_MB = (64, 512)  # the term cache's bounds when sized to the index (BRIDGE_SEARCH_CACHE_MB=0)
SIMILAR_CACHE_SIZE = 2048  # "more like this" answers kept per thread: a few ids each
NOTES = "NOTES.json"
# Characters of document text one indexing process holds per MB of memory (its postings, positions
# and Python objects), measured at 10,000 and 100,000 assets (bench/README.md, `warm.py rebuild`).
CHARS_PER_MB = 40_000  # beside SCHEMA_VERSION: what the search package computed while building the index


class _SearcherSlot:
    """One thread's searcher, closed when the thread ends (a threaded server's request threads
    come and go) as well as when the index changes: it holds open segment files."""

    def __init__(self, searcher):
        self.searcher = searcher
        self.close = weakref.finalize(self, searcher.close)


class WhooshBackend:
    """Search with Whoosh; see `app.search.backend.Backend` for what each method promises."""

    def __init__(self, root: Path, term_cache_mb: int, build_mb: int, query_cache_mb: int = 16):
        """`term_cache_mb` bounds the term postings kept in memory, `query_cache_mb` the query results
        each thread keeps; `build_mb` is what each indexing process of a rebuild may sort in memory
        (all from app/config.py)."""
        self.root = root
        self.query_cache_bytes = query_cache_mb << 20
        self.build_mb = build_mb
        self.link = root / "current"
        self._local = threading.local()  # one reused searcher (and its caches) per thread
        # Segments never change, so what was read of them serves every later searcher; a
        # segment is forgotten once no generation uses it (merged away or a rebuilt index).
        self._segments: weakref.WeakValueDictionary[str, Segment] = weakref.WeakValueDictionary()
        self._segments_lock = threading.Lock()
        # Term postings of every segment; 0 sizes the cache to the index (see `_size_term_cache`).
        self._auto_term_cache = term_cache_mb <= 0
        self._terms = LRU((term_cache_mb if term_cache_mb > 0 else AUTO_CACHE_MB[0]) << 20, weigh=nbytes)

    # answering ---------------------------------------------------------------
    def match(self, query: Query) -> Match:
        """What the index matches is cached per searcher (until the index changes)."""
        searcher = self.searcher()
        gen = self.generation(searcher)
        filters = {facet: set(values) for facet, values in query.filters.items() if values}
        key = (query.match, query.slots, query.pairs, query.coverage, query.pair_weight,
               tuple(sorted((f, tuple(sorted(v))) for f, v in filters.items())), query.visible_on, query.among)
        cache = self._per_searcher("queries", searcher,
                                   lambda: LRU(self.query_cache_bytes, weigh=queries.Matches.nbytes))
        matches = cache.get(key)
        if matches is None:
            matches = queries.match(gen, query, filters, query.visible_on, query.among)
            cache.put(key, matches)
        limit = len(matches.docs) if query.limit is None else query.limit
        if query.newest_first or not matches.scored:
            docs = matches.docs[np.argsort(-gen.updated[matches.docs], kind="stable")][:limit]
            scores = np.zeros(len(docs), dtype=np.float32)
        else:
            docs, scores = matches.best(limit)
        return Match(ids=gen.ids[docs].tolist(), scores=scores.tolist(), total=len(matches.docs),
                     facets=matches.counts, terms=matches.terms, scored=matches.scored)

    def vocabulary(self) -> Vocabulary:
        gen = self.generation(self.searcher())
        return Vocabulary(gen.token, gen.words())

    def known(self, words, visible_on: date | None) -> dict[str, int]:
        gen = self.generation(self.searcher())
        allowed = gen.allowed(visible_on)
        vocabulary = gen.words()
        found = {}
        for word in dict.fromkeys(words):
            found[word] = int(allowed[gen.postings("spell", word)[0]].sum()) if word in vocabulary else 0
        return found

    @reading
    def complete(self, prefix: str, visible_on: date | None, limit: int) -> tuple[list[int], list[str]]:
        words = re.findall(r"\w+", prefix.lower())
        if not words:
            return [], []
        searcher = self.searcher()
        gen = self.generation(searcher)
        stems = [queries.stem(w) for w in words[:-1]]
        parts = [whoosh_query.Term("title", s) for s in stems if s] + [whoosh_query.Prefix("title", words[-1])]
        ids = [int(hit["id"]) for hit in searcher.search(whoosh_query.And(parts), limit=limit,
                                                          filter=gen.allowed_docs(visible_on))]
        allowed = gen.allowed(visible_on)
        tags = []  # only tags of assets the asker may see: a draft's tag is not offered to a rep
        for tag in gen.expand("tags", prefix.lower().strip(), 200):
            if allowed[gen.postings("tags", tag)[0]].any():
                tags.append(tag)
                if len(tags) >= limit:
                    break
        return ids, tags

    @reading
    def similar(self, asset_id: int, visible_on: date | None, limit: int) -> list[int]:
        searcher = self.searcher()
        gen = self.generation(searcher)
        docnum = searcher.document_number(id=str(asset_id))
        if docnum is None:
            return []
        cache = self._per_searcher("similar", searcher, lambda: LRU(SIMILAR_CACHE_SIZE))
        key = (docnum, visible_on, limit)
        found = cache.get(key)
        if found is None:
            found = gen.ids[queries.similar(gen, docnum, visible_on, limit)].tolist()
            cache.put(key, found)
        return found

    def notes(self) -> dict:
        """The notes of the index in use, read once per index directory."""
        current = self.current_dir()
        cached = getattr(self, "_notes", None)
        if cached is None or cached[0] != current:
            try:
                cached = (current, json.loads((Path(current) / NOTES).read_text()))
            except (OSError, ValueError):
                cached = (current, {})
            self._notes = cached
        return cached[1]

    def write_notes(self, notes: dict) -> None:
        """Replace the notes kept with the index in use (atomically: a reader sees old or new)."""
        current = Path(self.current_dir())
        scratch = current / f"{NOTES}.{uuid.uuid4().hex}"
        scratch.write_text(json.dumps(notes))
        os.replace(scratch, current / NOTES)
        self._notes = (str(current), notes)

    def unreadable(self) -> list[str]:
        """Read every segment fully: stored fields, lengths, every term's postings and positions."""
        problems = []
        searcher = self.open().searcher()
        try:
            for leaf, _offset in searcher.leaf_searchers():
                reader = leaf.reader()
                segment = reader.segment()
                name = segment.segment_id() if segment is not None else "(empty)"
                try:
                    read_fully(reader)
                except Exception as exc:  # whatever a damaged file raises
                    problems.append(f"segment {name}: {type(exc).__name__}: {exc}")
        finally:
            searcher.close()
        return problems

    def fingerprints(self) -> dict[int, str]:
        return {int(f["id"]): f.get("fingerprint") for f in self.searcher().all_stored_fields()}

    # writing -----------------------------------------------------------------
    def write(self, read_changes: Callable[[], Changes]) -> bool:
        ix = self.open()
        try:
            writer = ix.writer(timeout=0.0, **WRITER_OPTIONS)
        except LockError:
            return False
        try:
            upserts, deletes = read_changes()
            for document in upserts:
                writer.update_document(**fields_of(document))
            for asset_id in deletes:
                writer.delete_by_term("id", str(asset_id))
            writer.commit()
        except BaseException:
            writer.cancel()
            raise
        self.prepare(ix.storage.folder)
        return True

    def prepare(self, index_dir: str) -> None:
        """Write the prepared columns of the index's segments that have none (a new worker then opens
        them in milliseconds instead of reading every document's stored fields: `prepared`), and drop
        those of segments merged away. A failure here costs the next worker time, never an answer."""
        folder = prepared.folder_of(index_dir)
        try:
            with storage(index_dir).open_index().searcher() as searcher:
                live = set()
                for leaf, _offset in searcher.leaf_searchers():
                    reader = leaf.reader()
                    if reader.segment() is None:
                        continue
                    live.add(reader.segment().segment_id())
                    if not prepared.exists(folder, reader.segment().segment_id()):
                        Segment(reader, self._terms, folder)  # reads the columns and writes them
            prepared.prune(folder, live)
        except Exception:  # whatever a damaged segment raises: its readers ask for a rebuild
            log.warning("could not prepare the search arrays in %s", index_dir, exc_info=True)

    def rebuild(self, documents: Iterable[Document], total: int, progress: Progress | None = None,
                notes: Callable[[], dict] | None = None) -> int:
        """Build in a new directory and swap it in atomically.

        The old index's write lock is held throughout, so no other process writes into the old
        directory meanwhile; what they queued goes into the new one after (the caller drains).
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
            count = self._build_into(self.root / f"index-{uuid.uuid4().hex}", documents, total, progress, notes)
        finally:
            if old_writer is not None:
                old_writer.cancel()
        self.reset()
        self._remove_stale_dirs()
        return count

    def _build_into(self, target: Path, documents: Iterable[Document], total: int, progress, notes) -> int:
        target.mkdir(parents=True)
        ix = storage(str(target)).create_index(make_schema())
        # Two indexing processes when it pays (on 2 cores). Each keeps its postings in memory, sorted
        # at the end: spilling them to runs merged one posting at a time in Python halves the rate
        # (bench/README.md). So the build commits a segment per `build_mb` of each process's
        # postings instead of letting them grow with the library (~4.4 GB per process at 100,000
        # assets in one segment each): a few segments more, memory bounded whatever the size.
        procs = min(os.cpu_count() or 1, 2) if total > 2000 else 1
        budget = self.build_mb * CHARS_PER_MB * procs  # text indexed per commit
        writer, held, done = None, 0, 0
        for document in documents:
            if writer is None:
                writer = ix.writer(limitmb=self.build_mb, procs=procs, multisegment=procs > 1, **WRITER_OPTIONS)
            fields = fields_of(document)
            writer.add_document(**fields)
            held += sum(len(value) for value in fields.values() if isinstance(value, str))
            done += 1
            if held >= budget:
                writer.commit(merge=False)
                writer, held = None, 0
            if progress and (done % 50 == 0 or done == total):
                progress(done, total)
        if writer is not None:
            writer.commit(merge=False)
        self.prepare(str(target))
        (target / NOTES).write_text(json.dumps(notes() if notes else {}))
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

    # opening -----------------------------------------------------------------
    def _version_ok(self) -> bool:
        marker = self.link / "SCHEMA_VERSION"
        return marker.is_file() and marker.read_text().strip() == SCHEMA_VERSION

    def open(self):
        """The index; NeedsRebuild if it is missing, damaged or of an old schema."""
        ix = self._try_open() if self._version_ok() else None
        if ix is None:
            raise NeedsRebuild(str(self.root))
        return ix

    def _try_open(self):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)  # whoosh leaks a handle on bad files
            try:
                ix = storage(self.current_dir()).open_index()
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
        slot = getattr(self._local, "slot", None)
        if slot is not None and self._local.dir == self.current_dir() and slot.searcher.up_to_date():
            return slot.searcher
        self.reset()
        try:
            opened = self.open().searcher()
        except NeedsRebuild:
            raise
        except Exception as exc:  # a segment too damaged to open
            raise NeedsRebuild(str(exc)) from exc
        self._local.slot = _SearcherSlot(opened)
        self._local.dir = self.current_dir()
        if self._auto_term_cache:
            self._size_term_cache(self._local.dir)
        return self._local.slot.searcher

    def _size_term_cache(self, index_dir: str) -> None:
        """Half the index's size on disk, within AUTO_CACHE_MB: a 10,000-asset library's worker keeps
        64 MB of postings (and stays under 200 MB), a 100,000-asset one ~280 MB, so the positions
        of its common words are read once rather than on every phrase that uses them."""
        with os.scandir(index_dir) as entries:
            size_mb = sum(e.stat().st_size for e in entries if e.is_file()) >> 20
        low, high = AUTO_CACHE_MB
        self._terms.limit = max(low, min(high, size_mb // 2)) << 20

    def reset(self) -> None:
        """Close this thread's searcher (others notice the new index on their next refresh)."""
        slot = getattr(self._local, "slot", None)
        if slot is not None:
            slot.close()
        self._local.slot = None

    def forget(self) -> None:
        """Start cold, as a new process would: no searcher, no segment arrays, no term postings."""
        self.reset()
        for name in ("generation", "queries", "similar"):
            setattr(self._local, name, None)
        with self._segments_lock:
            self._segments.clear()
        self._terms.clear()

    # arrays ------------------------------------------------------------------
    def _per_searcher(self, name: str, searcher, make: Callable):
        """This thread's `name` object for `searcher`, made anew when the searcher changes."""
        cached = getattr(self._local, name, None)
        if cached is None or cached[0] is not searcher:
            cached = (searcher, make())
            setattr(self._local, name, cached)
        return cached[1]

    @reading
    def generation(self, searcher) -> Generation:
        """The searcher's documents as arrays; only segments new to this process are read."""
        folder = prepared.folder_of(self._local.dir)
        return self._per_searcher("generation", searcher,
                                  lambda: Generation(searcher, lambda reader: self._segment(reader, folder)))

    def _segment(self, reader, folder: Path) -> Segment:
        key = reader.segment().segment_id()  # random per segment, unique across indexes
        with self._segments_lock:
            found = self._segments.get(key)
        if found is None:
            found = Segment(reader, self._terms, folder)
            with self._segments_lock:
                self._segments[key] = found
        return found

