"""Search over the library: the only module the rest of Bridge imports for searching.

    run_search / request_from_args / build_request   a search page or API answer, logged
    suggestions, related, record_click                 the search box, "More like this", result clicks
    result_counts                                      how many a query finds now (content gaps)
    synonym_groups, save_synonyms, delete_synonyms     the synonym groups marketers keep
    init_app, rebuild, check, sync, pending_count      the index's life (CLI, restore, app factory)
    rebuild_soon                                       the one rebuild job (`flask search reindex --job`)
    batched_updates                                    an import's index updates every few seconds, not per row
    refresh_notes                                      relearn boilerplate after a bulk import
    warm                                               a new web worker's first searches, before requests

Inside: `syntax` reads what was typed; `matching` decides how its words must match (minimum
should match, relaxing, synonyms, coverage); `spelling` respells from the index's words;
`service` runs that cascade and ranks by use and rating above a `backend` (`backend.Backend`,
today `whoosh/`); `documents` turns assets into what backends index; `outbox` makes the index
follow the database; `index` holds the app's backend and rebuilds it when it reports itself
unusable. Nothing outside this package imports whoosh, numpy or rapidfuzz.
"""
from app.search.index import Drift, check, init_app, rebuild, rebuild_soon, refresh_notes, sync
from app.search.outbox import batched as batched_updates
from app.search.outbox import pending_count
from app.search.service import (
                                FACET_LABELS,
                                SORT_LABELS,
                                SearchPage,
                                SearchRequest,
                                build_request,
                                record_click,
                                related,
                                request_from_args,
                                result_counts,
                                run_search,
                                suggestions,
)
from app.search.synonyms import SynonymError
from app.search.synonyms import delete as delete_synonyms
from app.search.synonyms import ensure as ensure_synonyms
from app.search.synonyms import groups as synonym_groups
from app.search.synonyms import save as save_synonyms
from app.search.warmup import warm

__all__ = ["FACET_LABELS", "SORT_LABELS", "Drift", "SearchPage", "SearchRequest", "SynonymError", "batched_updates",
           "build_request",
           "check", "delete_synonyms", "ensure_synonyms", "init_app", "pending_count", "rebuild", "rebuild_soon",
           "record_click", "refresh_notes", "related", "request_from_args", "result_counts", "run_search",
           "save_synonyms", "suggestions", "sync", "synonym_groups", "warm"]
