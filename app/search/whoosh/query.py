"""Queries: Whoosh parses the user's syntax; terms, AND, OR, NOT and exact phrases are evaluated on
the index's arrays (`postings`), anything else by Whoosh's own matcher; spelling corrections."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date

import numpy as np
from whoosh import qparser, query

from app.search.whoosh import postings
from app.search.whoosh.arrays import Generation
from app.search.whoosh.schema import ANALYZER, FIELD_ALIASES, HIGHLIGHTED_FIELDS, SEPARATOR, TEXT_FIELDS

log = logging.getLogger(__name__)


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


@dataclass
class Matches:
    """What one query and filter set match in one index generation; cached per searcher."""

    parsed: query.Query | None
    fell_back: bool
    docs: np.ndarray  # document numbers passing visibility, query and facets, ascending
    scores: np.ndarray  # their text scores
    counts: dict[str, dict[str, int]]

    def best(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k best text matches and their scores, best first."""
        return postings.best(self.docs, self.scores, k)


def match(gen: Generation, text: str, filters: dict[str, set[str]], visible_on: date | None) -> Matches:
    """Documents passing visibility, query and facets, and disjunctive facet counts: each facet's
    counts apply every other facet's selection, so choosing "Retail" still shows how many
    "Healthcare" assets would match."""
    parsed, fell_back = parse(text, gen.searcher.schema)
    hits = evaluate(parsed, gen) if parsed is not None else postings.Hits.every(gen.alive)
    passing, counts = postings.facet_counts(gen.facets, hits.mask & gen.allowed(visible_on), filters)
    docs = np.flatnonzero(passing)
    return Matches(parsed, fell_back, docs, hits.score[docs], counts)


def evaluate(q: query.Query, gen: Generation) -> postings.Hits:
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
        return postings.all_of([evaluate(sub, gen) for sub in q.subqueries], size)
    if type(q) is query.Or:
        return postings.any_of([evaluate(sub, gen) for sub in q.subqueries], size)
    if type(q) is query.Not:
        hits = postings.without(postings.Hits.every(gen.alive), evaluate(q.query, gen))
        hits.score[hits.mask] = q.boost  # as Whoosh scores it: each document it matches, its boost
        return hits
    if type(q) is query.AndNot:
        return postings.without(evaluate(q.a, gen), evaluate(q.b, gen))
    if isinstance(q, (query.Prefix, query.Wildcard)):
        return evaluate(q.simplify(gen.searcher.reader()), gen)
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


def terms(parsed) -> list[str]:
    """The indexed words a parsed query looks for, to highlight."""
    if parsed is None:
        return []
    return [t if isinstance(t, str) else t.decode("utf-8") for f, t in parsed.iter_all_terms(phrases=True)
            if f in HIGHLIGHTED_FIELDS and t != SEPARATOR]


def correction(gen: Generation, text: str, visible: np.ndarray) -> str | None:
    """A respelled query, offered only if it finds results the user may see.

    Words are checked against unstemmed title, description, tag and segment words, so the
    suggestion reads like what the user meant ("downtime"), not like an index stem. Words one
    edit away are preferred to words two away (Whoosh ranks everything within the distance by
    frequency alone), and looking for two edits, the slow walk, happens only when one finds none.
    """
    if parse(text, gen.searcher.schema)[0] is None:
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
    return corrected_text if (evaluate(corrected, gen).mask & visible).any() else None


def stem(word: str) -> str:
    tokens = [t.text for t in ANALYZER(word)]
    return tokens[0] if tokens else ""
