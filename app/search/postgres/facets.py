"""Facet filters and disjunctive facet counts over the `hit` rows of a query (backend.py): each
facet's counts apply every other facet's choices, never its own, as the Whoosh backend's do."""
from __future__ import annotations

from collections.abc import Mapping

DIMENSION = "dimension:"


def filters_sql(filters: Mapping[str, frozenset[str]], params: dict) -> dict[str, str]:
    """Facet → SQL condition on a row for the chosen values (OR within a facet); an unknown facet
    (a term nobody knows) matches nothing."""
    found = {}
    for n, (facet, values) in enumerate(sorted(filters.items())):
        if not values:
            continue
        name = f"f{n}"
        if facet in ("kind", "product"):
            params[name] = sorted(values)
            found[facet] = f"{facet} = ANY(CAST(:{name} AS text[]))"
        elif facet == "stage":
            params[name] = sorted(values)
            found[facet] = f"stages && CAST(:{name} AS text[])"
        elif facet.startswith(DIMENSION) and facet[len(DIMENSION):].isdigit():
            params[name] = [f"{facet[len(DIMENSION):]}:{v}" for v in sorted(values)]
            found[facet] = f"terms && CAST(:{name} AS text[])"
        else:
            found[facet] = "FALSE"
    return found


def _others(filters: dict[str, str], facet: str) -> str:
    return " AND ".join(f"({sql})" for name, sql in filters.items() if name != facet) or "TRUE"


def facet_sql(filters: dict[str, str]) -> str:
    """UNION ALL branches giving (2, facet, value, count, 0) for kind, product, stage and every
    taxonomy dimension the matches have terms of. Arrays are grouped before they are unnested:
    the matches hold few distinct sets of stages or terms, so that is a few rows, not one per match."""
    dimensions = [name for name in filters if name.startswith(DIMENSION) and filters[name] != "FALSE"]
    plain = {name: sql for name, sql in filters.items() if name not in dimensions}
    flags = "".join(f", ({filters[name]}) AS d{n}" for n, name in enumerate(dimensions))
    flag_names = "".join(f", d{n}" for n in range(len(dimensions)))

    def other_dimensions(skip: int | None) -> str:
        return " AND ".join(f"d{n}" for n in range(len(dimensions)) if n != skip) or "TRUE"

    by_dimension = "".join(f" WHEN '{name[len(DIMENSION):]}' THEN {other_dimensions(n)}"
                           for n, name in enumerate(dimensions))
    term_scope = (f"CASE split_part(t, ':', 1){by_dimension} ELSE {other_dimensions(None)} END" if dimensions
                  else "TRUE")
    return f"""
        UNION ALL SELECT 2, 'kind', kind, count(*), 0 FROM hit WHERE {_others(filters, 'kind')} GROUP BY kind
        UNION ALL SELECT 2, 'product', product, count(*), 0 FROM hit
          WHERE product <> '' AND {_others(filters, 'product')} GROUP BY product
        UNION ALL SELECT 2, 'stage', s, sum(n), 0 FROM (
          SELECT stages, count(*) AS n FROM hit WHERE {_others(filters, 'stage')} GROUP BY stages) g,
          unnest(g.stages) s GROUP BY s
        UNION ALL SELECT 2, '{DIMENSION}' || split_part(t, ':', 1), split_part(t, ':', 2), sum(n), 0 FROM (
          SELECT terms{flags}, count(*) AS n FROM hit WHERE {_others(plain, '')} GROUP BY terms{flag_names}) g,
          unnest(g.terms) t WHERE {term_scope} GROUP BY t"""
