"""Evaluating a `backend.Query` on the index's arrays: words over the text fields with BM25F,
phrases on positions, groups with a minimum to match, coverage and neighbouring-word pairs, then
facet counts. Nothing here parses what a user typed (that is `app/search/syntax.py`)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from app.search import postings
from app.search.backend import TEXT_FIELDS, Group, Node, Not, Phrase, Query, Word
from app.search.whoosh.arrays import Generation
from app.search.whoosh.schema import ANALYZER, FIELD_B, FIELD_WEIGHTS

MAX_EXPANSIONS = 100  # indexed words a prefix* stands for, at most
# A neighbouring-word pair (not a phrase the user quoted) is looked for in the body only when
# neither word occurs more often than this: joining the positions of the commonest words of a
# large library costs more than the hint is worth (title, keywords and taxonomy are always read).
PAIR_BODY_OCCURRENCES = 50_000
TAGS_WEIGHT = FIELD_WEIGHTS["keywords"]
KEY_TERMS = 8  # of an asset's candidate words (schema.KEY_TERM_CANDIDATES), the best few look for similar ones


@dataclass
class Matches:
    """What one query and filter set match in one index generation; cached per searcher."""

    docs: np.ndarray  # document numbers passing visibility, query and facets, ascending
    scores: np.ndarray  # their text scores
    counts: dict[str, dict[str, int]]
    terms: list[str]  # indexed words looked for, to highlight
    scored: bool

    def best(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k best text matches and their scores, best first."""
        return postings.best(self.docs, self.scores, k)

    def nbytes(self) -> int:
        """About what it holds in memory (its arrays, and ~100 bytes per facet count and word)."""
        counted = sum(len(values) for values in self.counts.values()) + len(self.terms)
        return self.docs.nbytes + self.scores.nbytes + 100 * counted


def stems(text: str) -> list[str]:
    """The indexed words of a piece of text, in order."""
    return [t.text for t in ANALYZER(text)]


def stem(word: str) -> str:
    found = stems(word)
    return found[0] if found else ""


class Evaluator:
    """Evaluates a query's nodes on one generation, each node once (a node may be both a slot and
    part of the match); collects the indexed words looked for, to highlight."""

    def __init__(self, gen: Generation):
        self.gen = gen
        self.size = gen.size
        self.memo: dict[tuple[Node, bool], postings.Hits | None] = {}
        self.stems: dict[tuple[str, tuple[str, ...], float], postings.Hits] = {}
        self.terms: list[str] = []

    def hits(self, node: Node, cheap: bool = False) -> postings.Hits | None:
        """The node's matches and scores; None for a node with nothing searchable ("the", "*")."""
        key = (node, cheap)
        if key not in self.memo:
            self.memo[key] = self._evaluate(node, cheap)
        return self.memo[key]

    def _evaluate(self, node: Node, cheap: bool) -> postings.Hits | None:
        if isinstance(node, Group):
            parts = [h for h in (self.hits(p) for p in node.parts) if h is not None]
            if not parts:
                return None
            minimum = len(parts) if node.minimum >= len(node.parts) else min(node.minimum, len(parts))
            return postings.at_least(parts, minimum, self.size, node.best)
        if isinstance(node, Not):
            excluded = self.hits(node.part)
            every = postings.Hits.every(self.gen.alive)
            return every if excluded is None else postings.without(every, excluded)
        if isinstance(node, Word) and node.field == "tags":
            return self._tag(node)
        fields = (node.field,) if node.field in TEXT_FIELDS else TEXT_FIELDS
        if isinstance(node, Word) and node.prefix:
            return self._prefix(node.text.casefold(), fields, node.weight)
        words = stems(node.text)
        if not words:
            return None
        self.terms += words
        if len(words) == 1:
            return self._stem(words[0], fields, node.weight)
        slop = node.slop if isinstance(node, Phrase) else 1
        return self._phrase(words, fields, slop, node.weight, cheap)

    def _stem(self, word: str, fields: tuple[str, ...], weight: float) -> postings.Hits:
        key = (word, fields, weight)
        if key not in self.stems:
            self.stems[key] = self._bm25f(word, fields, weight)
        return self.stems[key]

    def _bm25f(self, word: str, fields: tuple[str, ...], weight: float) -> postings.Hits:
        gen = self.gen
        parts = []
        for fieldname in fields:
            docs, tf = gen.postings(fieldname, word)
            parts.append(postings.FieldPostings(docs, tf, gen.lengths[fieldname][docs], gen.average_lengths[fieldname],
                                                FIELD_WEIGHTS[fieldname], FIELD_B[fieldname]))
        docs, scores = postings.bm25f(parts, self.size, weight)
        return postings.Hits.of(self.size, docs, scores)

    def _tag(self, node: Word) -> postings.Hits | None:
        gen = self.gen
        text = node.text.casefold()
        tags = gen.expand("tags", text, MAX_EXPANSIONS) if node.prefix else [text]
        if not tags:
            return postings.Hits.none(self.size)
        self.terms += [w for tag in tags for w in stems(tag)]
        found = []
        for tag in tags:
            docs, tf = gen.postings("tags", tag)
            found.append(postings.Hits.of(self.size, *postings.bm25f(
                [postings.FieldPostings(docs, tf, np.ones(len(docs), np.float32), 1.0, TAGS_WEIGHT, 0.0)],
                self.size, node.weight)))
        return postings.any_of(found, self.size)

    def _prefix(self, prefix: str, fields: tuple[str, ...], weight: float) -> postings.Hits:
        words = sorted({w for f in fields for w in self.gen.expand(f, prefix, MAX_EXPANSIONS)})[:MAX_EXPANSIONS]
        self.terms += words
        return postings.any_of([self._stem(w, fields, weight) for w in words], self.size)

    def _phrase(self, words: list[str], fields: tuple[str, ...], slop: int, weight: float,
                cheap: bool) -> postings.Hits:
        """Documents with the words in order, in one field; scored as the sum of its words."""
        gen = self.gen
        each = postings.all_of([self._stem(w, fields, weight) for w in words], self.size)
        if not each.mask.any():
            return each
        keep = np.zeros(self.size, dtype=bool)
        for fieldname in fields:
            if cheap and fieldname == "body" and max(
                    float(gen.postings(fieldname, w)[1].sum()) for w in words) > PAIR_BODY_OCCURRENCES:
                continue
            keep[postings.phrase_docs([gen.occurrences(fieldname, w) for w in words], slop)] = True
        mask = each.mask & keep
        return postings.Hits(mask, np.where(mask, each.score, 0).astype(np.float32))


def match(gen: Generation, query: Query, filters: dict[str, set[str]], visible_on: date | None,
          among: frozenset[int] | None = None) -> Matches:
    """Documents passing visibility, `among` (asset ids), query and facets, and disjunctive facet
    counts: each facet's counts apply every other facet's selection, so choosing "Retail" still
    shows how many "Healthcare" assets would match."""
    evaluator = Evaluator(gen)
    hits = evaluator.hits(query.match) if query.match is not None else None
    scored = hits is not None
    if hits is None:
        hits = postings.Hits.every(gen.alive)
    else:
        hits = _ranked(evaluator, hits, query)
    allowed = gen.allowed(visible_on)
    if among is not None:
        allowed = allowed & np.isin(gen.ids, np.fromiter(among, np.int64, len(among)))
    passing, counts = postings.facet_counts(gen.facets, hits.mask & allowed, filters)
    docs = np.flatnonzero(passing)
    return Matches(docs, hits.score[docs], counts, list(dict.fromkeys(evaluator.terms)), scored)


def _ranked(evaluator: Evaluator, hits: postings.Hits, query: Query) -> postings.Hits:
    """The match's scores with neighbouring pairs added and coverage applied (backend.py's formula)."""
    score = hits.score.copy()
    if query.pair_weight:
        for pair in query.pairs:
            found = evaluator.hits(pair, cheap=True)
            if found is not None:
                score += query.pair_weight * np.where(hits.mask, found.score, 0)
    if query.coverage and query.slots:
        slots = [h for h in (evaluator.hits(s) for s in query.slots) if h is not None]
        if slots:
            matched = np.zeros(evaluator.size, dtype=np.float32)
            for slot in slots:
                matched += slot.mask
            score *= (matched / len(slots)) ** query.coverage
    return postings.Hits(hits.mask, np.where(hits.mask, score, 0).astype(np.float32))


def key_terms(gen: Generation, candidates: str) -> list[tuple[str, float]]:
    """The KEY_TERMS words of an asset that say most about it, with weights (the best 1.0): frequent
    in the asset (`candidates`, "word count …" as indexed) and rare in the library (tf·idf). Words
    no other document holds find nothing and are left out."""
    tokens = candidates.split()
    weighed = []
    for word, count in zip(tokens[::2], tokens[1::2], strict=True):
        frequency = gen.doc_frequency("body", word)
        if frequency > 1:
            weighed.append((int(count) * float(np.log(gen.size / frequency) + 1.0), word))
    weighed.sort(key=lambda pair: (-pair[0], pair[1]))
    best = weighed[0][0] if weighed else 1.0
    return [(word, weight / best) for weight, word in weighed[:KEY_TERMS]]


def similar(gen: Generation, docnum: int, visible_on: date | None, limit: int) -> np.ndarray:
    """Up to `limit` documents sharing the key terms of document `docnum`, most similar first: its
    key terms OR-ed, each weighted, scored with BM25F over the text fields like a query's words;
    the document itself and those the asker may not see left out."""
    found = [_word_scores(gen, word, weight) for word, weight in key_terms(gen, gen.stored(docnum, "key_terms") or "")]
    if not found:
        return np.zeros(0, np.int64)
    score = np.bincount(np.concatenate([docs for docs, _ in found]),
                        weights=np.concatenate([scores for _, scores in found]), minlength=gen.size)
    score[~gen.allowed(visible_on)] = 0
    score[docnum] = 0
    docs = np.flatnonzero(score)
    return postings.best(docs, score[docs].astype(np.float32), limit)[0]


def _word_scores(gen: Generation, word: str, weight: float) -> tuple[np.ndarray, np.ndarray]:
    """(documents, BM25F scores) of one indexed word over the text fields."""
    parts = []
    for fieldname in TEXT_FIELDS:
        docs, tf = gen.postings(fieldname, word)
        if len(docs):
            parts.append(postings.FieldPostings(docs, tf, gen.lengths[fieldname][docs], gen.average_lengths[fieldname],
                                                FIELD_WEIGHTS[fieldname], FIELD_B[fieldname]))
    return postings.bm25f(parts, gen.size, weight)
