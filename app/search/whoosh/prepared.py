"""A segment's columns (ids, visibility, update times, facet values) kept beside the index as one
NumPy file per segment, written when the segment is written, and opened memory-mapped.

Read from Whoosh, these columns cost a stored-fields lookup (a decompression and an unpickling) per
document: ~1 s for a new worker at 100,000 assets before its first answer. Opened from the file they
cost a few milliseconds, and every worker on the machine shares the same pages. Segments never
change, so a segment's file is valid for as long as the segment exists; a file that is missing, of
another format or damaged is simply not used (the columns are read from Whoosh and written again).

`<index dir>/arrays/<segment id>.npy` holds, as one int64 array: ids, published (0/1), expiry
days, update times (each one value per document), then each facet value's document numbers one
after the other; `<segment id>.json` says where each facet value's run starts and ends.
"""
from __future__ import annotations

import json
import logging
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

FOLDER = "arrays"
VERSION = 1


@dataclass
class Columns:
    ids: np.ndarray
    published: np.ndarray
    expires: np.ndarray
    updated: np.ndarray
    facets: dict[str, dict[str, np.ndarray]]


def folder_of(index_dir: str | Path) -> Path:
    return Path(index_dir) / FOLDER


def exists(folder: Path, key: str) -> bool:
    return (folder / f"{key}.json").is_file() and (folder / f"{key}.npy").is_file()


def load(folder: Path, key: str, size: int) -> Columns | None:
    """The segment's columns from its file (memory-mapped), or None when they cannot be used."""
    try:
        meta = json.loads((folder / f"{key}.json").read_text())
        if meta.get("version") != VERSION or meta.get("size") != size:
            return None
        data = np.load(folder / f"{key}.npy", mmap_mode="r")
        if data.dtype != np.int64 or data.shape != (meta["length"],):
            return None
        flat = data.view(np.ndarray)  # plain arrays over the mapping, not np.memmap
        facets = {facet: {value: flat[start:stop] for value, (start, stop) in by_value.items()}
                  for facet, by_value in meta["facets"].items()}
        return Columns(ids=flat[:size], published=flat[size:2 * size].astype(bool),
                       expires=flat[2 * size:3 * size], updated=flat[3 * size:4 * size], facets=facets)
    except FileNotFoundError:
        return None
    except Exception as exc:  # a damaged or truncated file: read the segment from Whoosh instead
        log.warning("search arrays of segment %s unusable (%r); reading the segment instead", key, exc)
        return None


def save(folder: Path, key: str, columns: Columns) -> None:
    """Write the segment's columns (atomically: a reader finds the old file, the new one or none)."""
    size = len(columns.ids)
    parts = [columns.ids.astype(np.int64), columns.published.astype(np.int64),
             columns.expires.astype(np.int64), columns.updated.astype(np.int64)]
    spans: dict[str, dict[str, list[int]]] = {}
    at = 4 * size
    for facet, by_value in columns.facets.items():
        for value, docs in by_value.items():
            spans.setdefault(facet, {})[value] = [at, at + len(docs)]
            at += len(docs)
            parts.append(np.asarray(docs, dtype=np.int64))
    folder.mkdir(exist_ok=True)
    scratch = uuid.uuid4().hex
    array_tmp, meta_tmp = folder / f"{key}.{scratch}.tmp.npy", folder / f"{key}.{scratch}.tmp.json"
    try:
        np.save(array_tmp, np.concatenate(parts) if parts else np.zeros(0, np.int64))
        meta_tmp.write_text(json.dumps({"version": VERSION, "size": size, "length": at, "facets": spans}))
        os.replace(array_tmp, folder / f"{key}.npy")  # the array first: a meta file always has its array
        os.replace(meta_tmp, folder / f"{key}.json")
    finally:
        for leftover in (array_tmp, meta_tmp):
            leftover.unlink(missing_ok=True)


def prune(folder: Path, live: set[str]) -> None:
    """Remove the files of segments no longer in the index (merged away). A worker that still has
    one open keeps its mapping; one opening that old generation reads the segment from Whoosh."""
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        if path.name.split(".", 1)[0] not in live and ".tmp." not in path.name:
            path.unlink(missing_ok=True)
