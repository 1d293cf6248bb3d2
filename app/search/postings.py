"""Query evaluation on term arrays with NumPy: matching, BM25 scores, phrases and facet counts.

Each backend reads postings into arrays its own way (`whoosh/arrays.py` out of Whoosh's segments,
`postgres/arrays.py` out of the database); the Whoosh backend's evaluation is built on all of this
module, the PostgreSQL backend's on its top k (`best`). Scoring postings one Python call at a time
was most of a search's time on a large library (bench/README.md), so every step here works on
whole arrays: a query's result is a dense match mask and score vector over the index's document
numbers. Nothing here knows Whoosh.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# BM25 as Whoosh computes it (its idf and saturation), over several fields as BM25F does.
K1 = 1.2
B = 0.75


@dataclass
class Hits:
    """Which documents match (a boolean mask over document numbers) and their text scores."""

    mask: np.ndarray
    score: np.ndarray

    @classmethod
    def none(cls, size: int) -> Hits:
        return cls(np.zeros(size, dtype=bool), np.zeros(size, dtype=np.float32))

    @classmethod
    def every(cls, alive: np.ndarray) -> Hits:
        return cls(alive.copy(), np.zeros(len(alive), dtype=np.float32))

    @classmethod
    def of(cls, size: int, docs: np.ndarray, scores: np.ndarray) -> Hits:
        hits = cls.none(size)
        hits.mask[docs] = True
        hits.score[docs] = scores
        return hits


def bm25(tf: np.ndarray, lengths: np.ndarray, doc_count: int, doc_frequency: int,
         avg_length: float, boost: float = 1.0) -> np.ndarray:
    """BM25 of one term in the documents whose term frequencies and field lengths are given."""
    idf = np.log(doc_count / (doc_frequency + 1)) + 1
    norm = K1 * ((1 - B) + B * lengths / (avg_length or 1))
    return (boost * idf * tf * (K1 + 1) / (tf + norm)).astype(np.float32)


@dataclass
class FieldPostings:
    """One term's postings in one field, with what BM25F weighs them by."""

    docs: np.ndarray
    tf: np.ndarray
    lengths: np.ndarray  # the field's length in each of `docs`
    average: float
    weight: float
    b: float = B


def bm25f(fields: list[FieldPostings], doc_count: int, boost: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """BM25F of one term over several fields: each field's frequency, normalised by that field's
    length, weighted and summed, then saturated once; idf over documents holding it in any field.
    Returns (documents, scores), documents ascending."""
    parts = [f for f in fields if len(f.docs)]
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    weighted = [f.weight * f.tf / ((1 - f.b) + f.b * f.lengths / (f.average or 1.0)) for f in parts]
    if len(parts) == 1:  # most words are in the body only: its documents are ascending already
        docs, tf = parts[0].docs, weighted[0]
    else:  # summed on a dense array: sorting the joined postings cost more
        dense = np.bincount(np.concatenate([f.docs for f in parts]), weights=np.concatenate(weighted),
                            minlength=doc_count)
        docs = np.flatnonzero(dense)
        tf = dense[docs]
    idf = np.log(doc_count / (len(docs) + 1)) + 1
    return docs, (boost * idf * tf * (K1 + 1) / (tf + K1)).astype(np.float32)


def at_least(parts: list[Hits], minimum: int, size: int, best: bool = False) -> Hits:
    """Documents matching at least `minimum` parts (0: every document, the parts only scoring); scores
    add up (or the best part's, with `best`)."""
    if minimum == 1 and not best:
        return any_of(parts, size)
    if minimum >= len(parts) and not best:
        return all_of(parts, size)
    count = np.zeros(size, dtype=np.int16)
    score = np.zeros(size, dtype=np.float32)
    for part in parts:
        count += part.mask
        if best:
            np.maximum(score, part.score, out=score)
        else:
            score += part.score
    mask = count >= minimum
    return Hits(mask, np.where(mask, score, 0).astype(np.float32))


def all_of(parts: list[Hits], size: int) -> Hits:
    """Documents matching every part; scores add up."""
    if not parts:
        return Hits.none(size)
    mask = parts[0].mask.copy()
    score = parts[0].score.copy()
    for part in parts[1:]:
        mask &= part.mask
        score += part.score
    return Hits(mask, np.where(mask, score, 0).astype(np.float32))


def any_of(parts: list[Hits], size: int) -> Hits:
    """Documents matching at least one part; scores add up."""
    mask = np.zeros(size, dtype=bool)
    score = np.zeros(size, dtype=np.float32)
    for part in parts:
        mask |= part.mask
        score += part.score
    return Hits(mask, score)


def without(hits: Hits, excluded: Hits) -> Hits:
    mask = hits.mask & ~excluded.mask
    return Hits(mask, np.where(mask, hits.score, 0).astype(np.float32))


def phrase_docs(occurrences: list[np.ndarray], slop: int = 1) -> np.ndarray:
    """Documents where the words occur one right after the other, in order (with `slop` n > 1:
    each word within n positions after the one before it).

    `occurrences` has, per word, every occurrence as one sorted 64-bit key, document << 32 |
    position, so "word i + 1 at the next position" is a sorted-array membership test. The
    rarest word anchors the test: probing its few occurrences into a common word's many costs
    a fraction of the other way round (bench/README.md).
    """
    if not occurrences:
        return np.zeros(0, np.int64)
    if slop > 1:
        return _near_docs(occurrences, slop)
    anchor = min(range(len(occurrences)), key=lambda i: len(occurrences[i]))
    starts = occurrences[anchor]
    others = sorted((i for i in range(len(occurrences)) if i != anchor), key=lambda i: len(occurrences[i]))
    for i in others:
        if not len(starts):
            break
        starts = starts[_contains(occurrences[i], starts + (i - anchor))]
    return np.unique(starts >> 32)


def _near_docs(occurrences: list[np.ndarray], slop: int) -> np.ndarray:
    """Documents where each word occurs within `slop` positions after the word before it: every
    chain of occurrences is followed (a few probes per occurrence), not only the nearest one."""
    ends = occurrences[0]
    steps = np.arange(1, slop + 1, dtype=np.int64)
    for following in occurrences[1:]:
        if not len(ends):
            break
        probes = (ends[:, None] + steps[None, :]).ravel()
        ends = np.unique(probes[_contains(following, probes)])
    return np.unique(ends >> 32)


def _contains(sorted_keys: np.ndarray, probes: np.ndarray) -> np.ndarray:
    """For each probe, whether it is in `sorted_keys`."""
    if not len(sorted_keys):
        return np.zeros(len(probes), dtype=bool)
    at = np.searchsorted(sorted_keys, probes)
    at[at == len(sorted_keys)] = 0
    return sorted_keys[at] == probes


class FacetColumns:
    """Per-document facet values as one boolean column per value, for counting matches."""

    def __init__(self, values: dict[str, dict[str, np.ndarray]], size: int):
        """`values` maps each facet to each of its values' document numbers."""
        self.size = size
        self.names: dict[str, list[str]] = {}
        self.columns: dict[str, np.ndarray] = {}
        for facet, by_value in values.items():
            names = sorted(by_value)
            matrix = np.zeros((len(names), size), dtype=bool)
            for row, name in enumerate(names):
                matrix[row, by_value[name]] = True
            self.names[facet] = names
            self.columns[facet] = matrix

    def selection(self, facet: str, chosen: set[str]) -> np.ndarray:
        """Documents having any of the chosen values of one facet (none, for a facet nobody has)."""
        if facet not in self.columns:
            return np.zeros(self.size, dtype=bool)
        matrix = self.columns[facet]
        rows = [i for i, name in enumerate(self.names[facet]) if name in chosen]
        if not rows:
            return np.zeros(matrix.shape[1], dtype=bool)
        return matrix[rows].any(axis=0)

    def counts(self, facet: str, mask: np.ndarray) -> dict[str, int]:
        """How many of the masked documents have each value of `facet` (zeros left out)."""
        matrix = self.columns[facet]
        if not len(matrix):
            return {}
        totals = np.count_nonzero(matrix & mask, axis=1)
        return {name: int(n) for name, n in zip(self.names[facet], totals, strict=True) if n}


def facet_counts(columns: FacetColumns, matched: np.ndarray,
                 selected: dict[str, set[str]]) -> tuple[np.ndarray, dict[str, dict[str, int]]]:
    """The documents passing every facet selection, and disjunctive counts per facet.

    Each facet's counts apply every *other* facet's selection, so choosing "Retail" still
    shows how many "Healthcare" assets would match.
    """
    chosen = {f: columns.selection(f, values) for f, values in selected.items()}
    passing = matched.copy()
    for mask in chosen.values():
        passing &= mask
    counts = {}
    for facet in columns.columns:
        scope = matched.copy()
        for other, mask in chosen.items():
            if other != facet:
                scope &= mask
        counts[facet] = columns.counts(facet, scope)
    return passing, counts


def best(docs: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The `k` best-scoring documents, best first, ties in document order.

    Only the best k are sorted: ordering every match was most of a broad query on a large library.
    `docs` must be in ascending order, as `np.flatnonzero` gives them.
    """
    if k <= 0:
        return docs[:0], scores[:0]
    if k < len(scores):
        kth = np.partition(scores, len(scores) - k)[len(scores) - k]  # the k-th highest score
        above = np.flatnonzero(scores > kth)
        ties = np.flatnonzero(scores == kth)[:k - len(above)]
        pick = np.sort(np.concatenate((above, ties)))
        docs, scores = docs[pick], scores[pick]
    order = np.lexsort((docs, -scores))
    return docs[order], scores[order]
