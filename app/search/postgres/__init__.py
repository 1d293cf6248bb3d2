"""The PostgreSQL search backend: `search_document` rows kept by triggers (migration 0013), queries
compiled to tsquery (`tsquery`), facet counts in SQL (`facets`), typo candidates from pg_trgm."""

# Tables migration 0013 makes on PostgreSQL for this backend, outside the models (their columns are
# PostgreSQL's own types): comparing the models with the database leaves them out.
TABLES = frozenset({"search_document", "search_word", "search_note", "search_posting"})


def not_search_table(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's `include_object`: everything but this backend's tables."""
    return not (type_ == "table" and name in TABLES or getattr(getattr(obj, "table", None), "name", None) in TABLES)
