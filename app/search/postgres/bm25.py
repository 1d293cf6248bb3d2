"""A query's nodes evaluated on the node's arrays (`arrays.py`), scored with BM25F.

Each word of the query (a lexeme as PostgreSQL's `english` configuration makes it, or a prefix*)
is a key: its postings (`search_posting`, migration 0019) give its occurrences under each weight
(title A, tags/product/kind/taxonomy B, description C, messaging and file text D). Per asset, a
word under the weights its field allows (`Word.field`) becomes a term frequency,

    tf = Σ_w W_w · n_w / (1 − B + B · length_w / average length_w)

each weight normalised by the asset's own length under it, and a part scores as the Whoosh
backend's BM25F does: weight · idf · tf · (K1 + 1) / (tf + K1), idf = ln(N / (df + 1)) + 1 with
df the assets holding the word under those weights. A phrase matches where each of its words does
and the asset's vector holds them in order (the database checks the vectors of those assets only);
a phrase of neighbouring words searched in every field, where its pairs are held (`search_pair`,
migration 0020; two words: no vector read at all). It scores its words' scores added, as Whoosh's
phrase does. An exact tag matches on the asset's tags and scores its words under B. Groups combine
their parts (AND; OR; at least k of n, scores added; the best part's score for a synonym group);
NOT negates. Every step is a whole-array operation over the library's positions.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from app.search import postings
from app.search.backend import Group, Match, Node, Not, Phrase, Query, Word
from app.search.postgres.arrays import Entry, Library
from app.search.postgres.facets import facet_counts
from app.search.postgres.tsquery import phrase

K1 = 1.2
B = 0.75
# A word in the title counts three times one in the body; tags, product, kind and taxonomy twice
# (the Whoosh backend's field weights; the description is body text there).
WEIGHTS = {"a": 3.0, "b": 2.0, "c": 1.0, "d": 1.0}
FIELD_WEIGHTS = {None: "abcd", "title": "a", "keywords": "b", "taxonomy": "b", "body": "cd"}
LABELS = {"abcd": "", "a": "A", "b": "B", "cd": "CD"}  # the same weights as tsquery labels
TAG_SCORE = 1.0  # a tag prefix's score (no word to weigh)

Lexemes = Mapping[str, list[tuple[str, int]]]  # text → its lexemes with positions, in order
Key = tuple[str, str]  # ("lexeme" | "prefix" | "pair", text)
# Which of the masked positions' vectors hold a tsquery (the database answers).
VectorCheck = Callable[[np.ndarray, str], np.ndarray]


@dataclass
class Part:
    mask: np.ndarray  # bool per position: matches
    score: np.ndarray  # float64 per position, 0 where it does not match


def keys_of(node: Node | None, lexemes: Lexemes, into: dict[Key, None]) -> dict[Key, None]:
    """Every key evaluating the node reads (fetched in one statement before it is evaluated)."""
    if isinstance(node, Group):
        for part in node.parts:
            keys_of(part, lexemes, into)
    elif isinstance(node, Not):
        keys_of(node.part, lexemes, into)
    elif isinstance(node, Word) and node.prefix:
        if node.field != "tags":
            into[("prefix", node.text.casefold())] = None
    elif isinstance(node, (Word, Phrase)):
        found = lexemes.get(node.text, [])
        into.update((("lexeme", lexeme), None) for lexeme, _ in found)
        if node.field != "tags" and len(found) > 1 and (not isinstance(node, Phrase) or node.slop <= 1) \
                and FIELD_WEIGHTS.get(node.field, "abcd") == "abcd":
            into.update((key, None) for key in pair_keys(found))
    return into


def pair_keys(found: list[tuple[str, int]]) -> list[Key]:
    """The neighbouring pairs of a phrase's lexemes, when they are all neighbours (a stop word
    between two leaves a gap no pair records): none otherwise."""
    if any(b - a != 1 for (_, a), (_, b) in zip(found, found[1:], strict=False)):
        return []
    return [("pair", f"{first} {second}") for (first, _), (second, _) in zip(found, found[1:], strict=False)]


def frequency(entry: Entry, weights: str) -> int:
    """Assets holding a key under any of `weights`."""
    return int(np.count_nonzero(entry.counts[:, ["abcd".index(w) for w in weights]].any(axis=1)))


def idf(documents: int, frequency: int) -> float:
    """BM25's idf, as the Whoosh backend computes it."""
    return math.log(max(documents, 1) / (frequency + 1)) + 1


class Evaluator:
    """Evaluates a query's nodes on one library, each node once; `entries` are the postings of
    every key `keys_of` named, `check` asks the database about vectors."""

    def __init__(self, library: Library, lexemes: Lexemes, entries: Mapping[Key, Entry], check: VectorCheck):
        self.library = library
        self.size = library.size
        self.lexemes = lexemes
        self.entries = entries
        self.check = check
        self.documents = library.count()
        self.averages = library.average()
        self.memo: dict[Node, Part | None] = {}
        self.tf: dict[tuple[Key, str], np.ndarray] = {}
        self.highlight: list[str] = []

    def none(self) -> np.ndarray:
        return np.zeros(self.size, bool)

    def term(self, key: Key, weights: str, weight: float) -> tuple[np.ndarray, np.ndarray]:
        """(tf, score) of a key under `weights`, per position."""
        tf = self.tf.get((key, weights))
        if tf is None:
            entry = self.entries[key]
            tf = np.zeros(self.size)
            if len(entry.rows):
                lengths = self.library.sizes[entry.rows]
                summed = None
                for w in weights:
                    n = "abcd".index(w)
                    scale = B / (float(self.averages[n]) or 1.0)
                    part = WEIGHTS[w] * entry.counts[:, n].astype(np.float64) / ((1 - B) + scale * lengths[:, n])
                    summed = part if summed is None else summed + part
                tf[entry.rows] = summed
            self.tf[key, weights] = tf
        factor = weight * idf(self.documents, frequency(self.entries[key], weights))
        return tf, factor * (tf * (K1 + 1) / (tf + K1))

    def part(self, node: Node) -> Part | None:
        if node not in self.memo:
            self.memo[node] = self._part(node)
        return self.memo[node]

    def _part(self, node: Node) -> Part | None:
        if isinstance(node, Group):
            return self._group(node)
        if isinstance(node, Not):
            inner = self.part(node.part)
            return Part(np.ones(self.size, bool) if inner is None else ~inner.mask, np.zeros(self.size))
        if isinstance(node, Word) and node.field == "tags":
            return self._tag(node)
        weights = FIELD_WEIGHTS.get(node.field, "abcd")
        if isinstance(node, Word) and node.prefix:
            prefix = node.text.casefold()
            self.highlight.append(prefix)
            tf, score = self.term(("prefix", prefix), weights, node.weight)
            held = tf > 0
            return Part(held, np.where(held, score, 0))
        found = self.lexemes.get(node.text, [])
        if not found:
            return None
        self.highlight += [lexeme for lexeme, _ in found]
        words = [self.term(("lexeme", lexeme), weights, node.weight) for lexeme, _ in found]
        held = np.logical_and.reduce([tf > 0 for tf, _ in words])
        score = words[0][1]
        for _, more in words[1:]:
            score = score + more
        if len(found) == 1:
            return Part(held, np.where(held, score, 0))
        slop = node.slop if isinstance(node, Phrase) else 1
        pairs = pair_keys(found) if slop <= 1 and weights == "abcd" else []
        if pairs:  # held where its pairs are; more than one pair: and in that order, as the vector says
            held = np.logical_and.reduce([self.held(key) for key in pairs])
            if len(pairs) == 1:
                return Part(held, np.where(held, score, 0))
        held = held & self.check(held, phrase(found, LABELS[weights], slop))
        return Part(held, np.where(held, score, 0))

    def held(self, key: Key) -> np.ndarray:
        mask = self.none()
        mask[self.entries[key].rows] = True
        return mask

    def _tag(self, node: Word) -> Part:
        tag = node.text.casefold()
        tags = self.library.tags
        if node.prefix:
            mask = self.none()
            for name, column in tags.items():
                if name.startswith(tag):
                    mask |= column
            return Part(mask, np.where(mask, TAG_SCORE * node.weight, 0.0))
        found = self.lexemes.get(node.text, [])
        self.highlight += [lexeme for lexeme, _ in found]
        mask = tags[tag].copy() if tag in tags else self.none()
        if not found:  # a tag of stop words only: matched, not scored
            return Part(mask, np.zeros(self.size))
        words = [self.term(("lexeme", lexeme), "b", node.weight)[1] for lexeme, _ in found]
        score = words[0]
        for more in words[1:]:
            score = score + more
        return Part(mask, np.where(mask, score, 0))

    def _group(self, node: Group) -> Part | None:
        parts = [p for p in (self.part(n) for n in node.parts) if p is not None]
        if not parts:
            return None
        minimum = len(parts) if node.minimum >= len(node.parts) else min(node.minimum, len(parts))
        if minimum == 0:
            mask = np.ones(self.size, bool)
        elif minimum >= len(parts):
            mask = np.logical_and.reduce([p.mask for p in parts])
        elif minimum == 1:
            mask = np.logical_or.reduce([p.mask for p in parts])
        else:
            mask = np.add.reduce([p.mask.astype(np.int32) for p in parts]) >= minimum
        if len(parts) == 1:
            return Part(mask, parts[0].score)
        if node.best:
            combined = np.maximum.reduce([p.score for p in parts])
        else:
            combined = parts[0].score
            for p in parts[1:]:
                combined = combined + p.score
        return Part(mask, np.where(mask, combined, 0))


def ranked(evaluator: Evaluator, query: Query, pairs: tuple[Phrase, ...], depth: int) -> Match:
    """The query's matches the asker may see, ranked, with their total and facet counts.

    score = (Σ matched parts' scores) × (slots matched / slots) ** coverage; then, for the best
    `depth` by that alone, pair_weight × the scores of the neighbouring pairs they hold × the same
    factor (checking a phrase in every match of common words was most of a long query's time)."""
    library = evaluator.library
    top = evaluator.part(query.match) if query.match is not None else None
    allowed = library.allowed(query.visible_on)
    if query.among is not None:  # assets the database chose (freshness): narrows results and facets alone
        allowed &= np.isin(library.ids, np.fromiter(query.among, np.int64, len(query.among)))
    scored = top is not None
    if scored:
        factor: np.ndarray | float = 1.0
        if query.coverage:
            slots = [p for p in (evaluator.part(s) for s in query.slots) if p is not None]
            if slots:
                matched = np.add.reduce([p.mask.astype(np.int32) for p in slots]).astype(np.float64)
                factor = np.power(matched / len(slots), query.coverage)
        hit = top.mask & allowed
        score = top.score * factor
    else:
        hit, score, factor = allowed, np.zeros(library.size), 1.0
    passing, counts = facet_counts(library, hit, query.filters)
    docs = np.flatnonzero(passing)
    if query.newest_first or not scored:
        order = np.lexsort((-library.ids[docs], -library.updated[docs]))
        docs = docs[order] if query.limit is None else docs[order][:query.limit]
        scores = score[docs]
    elif pairs and query.limit is not None:
        docs, scores = postings.best(docs, score[docs], max(depth, query.limit))
        bonus = np.zeros(len(docs))
        for pair in pairs:
            bonus += _pair_scores(evaluator, pair, docs)
        scores = scores + query.pair_weight * bonus * (factor[docs] if isinstance(factor, np.ndarray) else factor)
        order = np.lexsort((library.ids[docs], -scores))[:query.limit]
        docs, scores = docs[order], scores[order]
    else:
        docs, scores = postings.best(docs, score[docs], len(docs) if query.limit is None else query.limit)
    return Match(ids=library.ids[docs].tolist(), scores=scores.tolist() if scored else [0.0] * len(docs),
                 total=int(np.count_nonzero(passing)), facets=counts,
                 terms=list(dict.fromkeys(evaluator.highlight)), scored=scored)


def _pair_scores(evaluator: Evaluator, pair: Phrase, docs: np.ndarray) -> np.ndarray:
    """A neighbouring pair's score in each of `docs` holding it (its words' scores added), else 0."""
    found = evaluator.lexemes.get(pair.text, [])
    if len(found) < 2:
        return np.zeros(len(docs))
    weights = FIELD_WEIGHTS.get(pair.field, "abcd")
    words = [evaluator.term(("lexeme", lexeme), weights, pair.weight) for lexeme, _ in found]
    base = np.where(np.logical_and.reduce([tf[docs] > 0 for tf, _ in words]),
                    np.add.reduce([score[docs] for _, score in words]), 0)
    keys = pair_keys(found) if pair.slop <= 1 and weights == "abcd" else []
    if len(keys) == 1:
        held = evaluator.held(keys[0])[docs]
    else:
        candidates = np.zeros(evaluator.size, bool)
        candidates[docs[base > 0]] = True
        held = evaluator.check(candidates, phrase(found, LABELS[weights], pair.slop))[docs]
    return np.where(held & (base > 0), base, 0)
