"""Facet filters and disjunctive facet counts over a query's matches on the node's arrays: each
facet's counts apply every other facet's choices, never its own, as the Whoosh backend's do."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from app.search.postgres.arrays import Library


def facet_counts(library: Library, matched: np.ndarray, filters: Mapping[str, frozenset[str]]
                 ) -> tuple[np.ndarray, dict[str, dict[str, int]]]:
    """The positions passing every facet's choices (OR within a facet; a facet or value nobody has
    matches nothing), and the counts of each facet's values among the matches passing the others'."""
    chosen = {}
    for facet, values in filters.items():
        if not values:
            continue
        columns = library.values.get(facet, {})
        mask = np.zeros(library.size, bool)
        for value in values:
            if value in columns:
                mask |= columns[value]
        chosen[facet] = mask
    passing = matched.copy()
    for mask in chosen.values():
        passing &= mask
    counts: dict[str, dict[str, int]] = {}
    for facet, columns in library.values.items():
        scope = matched
        for other, mask in chosen.items():
            if other != facet:
                scope = scope & mask
        found = {value: int(n) for value, n in ((v, np.count_nonzero(c & scope)) for v, c in columns.items()) if n}
        if found:
            counts[facet] = found
    return passing, counts
