"""Search over the library: the only module the rest of Bridge imports for searching.

    run_search / request_from_args / build_request   a search page or API answer, logged
    suggestions, related, record_click                 the search box, "More like this", result clicks
    init_app, rebuild, check, sync, pending_count      the index's life (CLI, restore, app factory)

Inside: `service` ranks by use and rating above a `backend` (`backend.Backend`, today
`whoosh/`); `documents` turns assets into what backends index; `outbox` makes the index follow
the database; `index` holds the app's backend and rebuilds it when it reports itself unusable.
Nothing outside this package imports whoosh or numpy.
"""
from app.search.index import Drift, check, init_app, rebuild, sync
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
                                run_search,
                                suggestions,
)

__all__ = ["FACET_LABELS", "SORT_LABELS", "Drift", "SearchPage", "SearchRequest", "build_request", "check",
           "init_app", "pending_count", "rebuild", "record_click", "related", "request_from_args", "run_search",
           "suggestions", "sync"]
