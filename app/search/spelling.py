"""Spelling corrections drawn from the index's own words, for a query that found nothing.

A word is corrected only when no document the asker may see holds it. Candidates are the words of
the index's `Vocabulary` (titles, descriptions, tags, products, taxonomy: unstemmed) within
MAX_EDITS of it (Damerau–Levenshtein with adjacent transpositions, so "secuirty" is one edit from
"security"), found with RapidFuzz among the words of nearly the same length; a candidate counts
only if a document the asker may see holds it, so a draft's words are never offered to a rep.
The nearest wins, then the most common. Two neighbouring words that are one indexed word
("ops grid" → "opsgrid") are joined.

The vocabulary is bucketed by length once per index generation (`_buckets`); a backend that keeps
its words in an index of their own (PostgreSQL's pg_trgm) gives the few that look alike instead
(`Vocabulary.near`), and the same edit distance decides. A query whose words are all known costs
one lookup per word.
"""
from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence

from rapidfuzz import process
from rapidfuzz.distance import OSA

from app.search.backend import Vocabulary

Known = Callable[[Iterable[str]], Mapping[str, int]]  # words → how many documents the asker may see hold them
MIN_LENGTH = 4  # shorter words are left alone: "tco" is not a misspelt "two"
CANDIDATES = 12  # nearest vocabulary words considered per unknown word

LOOKALIKES_KEPT = 4096  # words whose look-alikes are remembered (per process, across generations)

_cache: dict[object, dict[int, list[str]]] = {}
_lookalike_cache: dict[tuple, list] = {}
_cache_lock = threading.Lock()


def max_edits(word: str) -> int:
    return 1 if len(word) <= 5 else 2


def _buckets(vocabulary: Vocabulary) -> dict[int, list[str]]:
    """The vocabulary's words by length, prepared once per index generation."""
    with _cache_lock:
        found = _cache.get(vocabulary.generation)
    if found is None:
        found = {}
        for word in vocabulary.words:
            found.setdefault(len(word), []).append(word)
        with _cache_lock:
            if len(_cache) > 1:  # keep the last generation's for searchers still on it
                _cache.pop(next(iter(_cache)))
            _cache[vocabulary.generation] = found
    return found


def _correctable(word: str, known: Mapping[str, int]) -> bool:
    return len(word) >= MIN_LENGTH and word.isalpha() and not known.get(word)


def corrections(words: Sequence[str], vocabulary: Vocabulary, known: Known,
                keep: Callable[[str], bool] = lambda word: False) -> dict[str, str]:
    """Replacements for the query's misspelt words (lower case): {typed: indexed word}, and
    {"ops grid": "opsgrid"} for joined neighbours. `keep(word)` spares a word (a synonym, say)."""
    lowered = [w.casefold() for w in words]
    pairs = [f"{a}{b}" for a, b in zip(lowered, lowered[1:], strict=False)]
    counts = dict(known([*lowered, *pairs]))
    found: dict[str, str] = {}
    joined: set[int] = set()
    for index, pair in enumerate(pairs):
        first, second = lowered[index], lowered[index + 1]
        if counts.get(pair) and first.isalpha() and second.isalpha() and index not in joined:
            found[f"{first} {second}"] = pair
            joined.update((index, index + 1))
    for index, word in enumerate(lowered):
        if index in joined or keep(word) or not _correctable(word, counts):
            continue
        if best := _nearest(word, vocabulary, known):
            found[word] = best
    return found


def _nearest(word: str, vocabulary: Vocabulary, known: Known) -> str | None:
    edits = max_edits(word)
    nearby = []
    if vocabulary.near is not None:  # the backend's own index of its words narrows the choice
        counts = vocabulary.near(word, edits)
        nearby = process.extract(word, list(counts), scorer=OSA.distance, score_cutoff=edits, limit=CANDIDATES)
    else:
        counts = vocabulary.words
        nearby = _lookalikes(word, edits, vocabulary)
    if not nearby:
        return None
    candidates = sorted(nearby, key=lambda found: (found[1], -counts.get(found[0], 0), found[0]))
    visible = known([c for c, _, _ in candidates])
    return next((c for c, _, _ in candidates if visible.get(c)), None)


def _lookalikes(word: str, edits: int, vocabulary: Vocabulary) -> list:
    """The vocabulary's words within `edits` of `word` (RapidFuzz over the buckets of nearly its length),
    remembered per index generation: content gaps ask for the same hundred misspelt queries on each
    view (3 ms a word at 10,000 assets). Which of them the asker may see is decided afresh each time."""
    key = (vocabulary.generation, word, edits)
    with _cache_lock:
        found = _lookalike_cache.get(key)
    if found is not None:
        return found
    buckets, found = _buckets(vocabulary), []
    for length in range(len(word) - edits, len(word) + edits + 1):
        if choices := buckets.get(length):
            found += process.extract(word, choices, scorer=OSA.distance, score_cutoff=edits, limit=CANDIDATES)
    with _cache_lock:
        if len(_lookalike_cache) >= LOOKALIKES_KEPT:
            _lookalike_cache.pop(next(iter(_lookalike_cache)))  # the oldest first: bounded memory
        _lookalike_cache[key] = found
    return found


def respelled(text: str, replacements: Mapping[str, str]) -> str:
    """`text` with each replaced word (or pair of words) swapped, case and punctuation kept."""
    for wrong, right in sorted(replacements.items(), key=lambda item: -len(item[0])):
        pattern = r"\s+".join(map(re.escape, wrong.split()))
        text = re.sub(rf"(?<![\w-]){pattern}(?![\w-])", right, text, flags=re.IGNORECASE)
    return text
