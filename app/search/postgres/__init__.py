"""The PostgreSQL search backend: `search_document` rows, their postings and neighbouring-word pairs
kept by triggers (migrations 0013, 0019, 0020, 0021), a copy of them in each process kept true to them
(`arrays`), queries evaluated on that copy and scored BM25F (`bm25`), phrases as tsquery (`tsquery`),
disjunctive facet counts (`facets`), typo candidates from pg_trgm."""

# Tables migrations 0013, 0019, 0020 and 0021 make on PostgreSQL for this backend, outside the models (their columns are
# PostgreSQL's own types): comparing the models with the database leaves them out.
TABLES = frozenset({"search_document", "search_word", "search_note", "search_posting", "search_pair",
                    "search_gone"})


def not_search_table(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's `include_object`: everything but this backend's tables."""
    return not (type_ == "table" and name in TABLES or getattr(getattr(obj, "table", None), "name", None) in TABLES)
