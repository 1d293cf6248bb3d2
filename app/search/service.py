"""The rep's search experience: runs the index, loads rows, ranks by use and rating, logs searches."""
from __future__ import annotations

import math
import re
import secrets
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app import usage
from app.extensions import db
from app.library import ratings, taxonomy
from app.library.assets import Page, sees_drafts
from app.models import Asset, AssetKind, AssetVersion, Segment, Stage
from app.search.whoosh import backend as search
from app.search.whoosh.backend import FACETS, SORTS, SearchRequest

FACET_LABELS = {"segment": "Segment", "stage": "Stage", "kind": "Kind", "product": "Product"}
SORT_LABELS = {"relevance": "Relevance", "most_used": "Most used", "top_rated": "Top rated", "newest": "Newest"}
RECENT_USE_DAYS = 30
SEARCH_ID = re.compile(r"[0-9a-f]{16}|e[0-9]{1,12}")  # tokens, and event ids from before 0004


@dataclass
class Result:
    asset: Asset
    snippet: str
    score: float
    uses: int
    rating: ratings.RatingSummary | None
    position: int


@dataclass
class FacetOption:
    value: str
    label: str
    count: int
    selected: bool


@dataclass
class SearchPage:
    request: SearchRequest
    results: list[Result]
    page: Page
    facets: dict[str, list[FacetOption]]
    suggestion: str | None
    search_id: str | None
    query_error: bool = False
    sort_labels: dict[str, str] = field(default_factory=lambda: dict(SORT_LABELS))


def relevance_weight(uses: int, stars: float | None) -> float:
    """Multiplier on the text score: well-used, well-rated assets rise (formula in the README)."""
    return (1 + 0.25 * math.log1p(uses)) * (1 + 0.1 * ((stars or 3.0) - 3.0))


class Signals:
    """Recent use and ratings from the database, fetched once per search and reused for the page."""

    def __init__(self):
        self.uses: dict[int, int] = {}
        self.stars: dict[int, ratings.RatingSummary] = {}

    def load(self, ids: list[int]) -> None:
        missing = [i for i in ids if i not in self.uses]
        if missing:
            counts = usage.use_counts(missing, days=RECENT_USE_DAYS)
            self.uses.update({i: counts.get(i, 0) for i in missing})
            self.stars.update(ratings.summaries(missing))

    def weights(self, ids: list[int], sort: str) -> dict[int, float]:
        """Per-asset weights for ranking (relevance) or sorting (most used, top rated)."""
        self.load(ids)
        if sort == "most_used":
            return {i: float(self.uses[i]) for i in ids}
        if sort == "top_rated":
            return {i: self.stars[i].average + self.stars[i].count / 1e6 if i in self.stars else 0.0
                    for i in ids}
        return {i: relevance_weight(self.uses[i], self.stars[i].average if i in self.stars else None)
                for i in ids}


def build_request(user, *, text="", segment=(), stage=(), kind=(), product=(), sort="relevance",
                  page=1, per_page=20) -> SearchRequest:
    return SearchRequest(
        text=search.clean_text(text), segment=[str(s) for s in segment if str(s)],
        stage=[str(s) for s in stage if str(s)], kind=[k for k in kind if k],
        product=[p for p in product if p], sort=sort if sort in SORTS else "relevance",
        page=max(1, page), per_page=per_page, include_hidden=sees_drafts(user),
    )


def request_from_args(user, args, per_page: int = 20) -> SearchRequest:
    """The search parameters of a URL's query string (a MultiDict), shared by page and API."""
    return build_request(
        user, text=args.get("q", ""), segment=_term_ids(Segment, args.getlist("segment")),
        stage=_term_ids(Stage, args.getlist("stage")),
        kind=args.getlist("kind"), product=args.getlist("product"),
        sort=args.get("sort", "relevance"), page=args.get("page", 1, type=int), per_page=per_page,
    )


def _term_ids(model, values: list[str]) -> list[str]:
    """Segment or stage filters given as ids (the page's links) or names (API callers)."""
    ids = [v for v in values if v.isdigit()]
    names = [v for v in values if v and not v.isdigit()]
    found, unknown = taxonomy.terms_by_name(model, names)
    return ids + [str(t.id) for t in found] + (["-1"] if unknown else [])


def load_assets(ids: list[int]) -> list[Asset]:
    """Assets in the given order, with what result cards show (not the versions' file text)."""
    rows = db.session.scalars(select(Asset).where(Asset.id.in_(ids)).options(
        selectinload(Asset.segments), selectinload(Asset.stages),
        selectinload(Asset.versions).defer(AssetVersion.text)))
    by_id = {a.id: a for a in rows}
    return [by_id[i] for i in ids if i in by_id]


def snippet_sources(assets: list[Asset]) -> dict[int, str]:
    """Description, messaging and the current file's text of each asset, for snippets."""
    current = [a.current_version.id for a in assets if a.current_version]
    texts = dict(db.session.execute(
        select(AssetVersion.asset_id, func.substr(AssetVersion.text, 1, search.SNIPPET_SOURCE_CHARS))
        .where(AssetVersion.id.in_(current))).all()) if current else {}
    return {a.id: "\n".join(filter(None, [a.description, a.body, texts.get(a.id, "")])) for a in assets}


def facet_options(req: SearchRequest, counts: dict[str, dict[str, int]]) -> dict[str, list[FacetOption]]:
    names = {
        "segment": {str(s.id): s.name for s in taxonomy.segments()},
        "stage": {str(s.id): s.name for s in taxonomy.stages()},
        "kind": {k.value: k.label for k in AssetKind},
    }
    options = {}
    for facet in FACETS:
        chosen = set(getattr(req, facet))
        labels = names.get(facet) or {v: v for v in counts[facet]}
        order = list(labels) if facet in names else sorted(labels)
        options[facet] = [FacetOption(v, labels[v], counts[facet].get(v, 0), v in chosen)
                          for v in order if counts[facet].get(v) or v in chosen]
    return options


def run_search(user, req: SearchRequest, *, log: bool = True) -> SearchPage:
    """Search, then log it (first pages only, so paging does not count as new searches)."""
    signals = Signals()
    hits = search.search(req, signals.weights)
    assets = load_assets(hits.ids)
    signals.load([a.id for a in assets])
    sources = snippet_sources(assets)
    offset = (req.page - 1) * req.per_page
    results = [
        Result(a, search.snippet(sources[a.id], hits.terms), hits.scores.get(a.id, 0.0),
               signals.uses[a.id], signals.stars.get(a.id), offset + n)
        for n, a in enumerate(assets, start=1)
    ]
    facets = facet_options(req, hits.facets)
    search_id = None
    if log and req.page == 1 and (req.text or req.filters()):
        search_id = secrets.token_hex(8)
        usage.log_event(
            "search", user=user, search_id=search_id, query=req.text, results=hits.total, sort=req.sort,
            filters={f: [o.label for o in facets[f] if o.selected] for f in req.filters()},
        )
    return SearchPage(req, results, Page(results, hits.total, req.page, req.per_page), facets,
                      hits.suggestion, search_id, hits.query_error)


def suggestions(user, prefix: str) -> list[dict]:
    """Titles and tags for the search box as the user types."""
    ids, tags = search.suggest(prefix, sees_drafts(user))
    titles = [{"label": a.title, "kind": "title", "id": a.id} for a in load_assets(ids)]
    return titles + [{"label": t, "kind": "tag"} for t in tags]


def related(user, asset: Asset, limit: int = 4) -> list[Asset]:
    """"More like this": assets sharing the key terms of this one's text."""
    return load_assets(search.more_like(asset, sees_drafts(user), limit=limit))


def record_click(user, asset: Asset, search_id: str | None, position: int | None) -> None:
    """Log that a search result was opened, tied to the search that listed it.

    Reports pair a click with a search only when both are the same user's, so a forged `sid`
    can at most mark one's own searches as clicked.
    """
    if search_id and SEARCH_ID.fullmatch(search_id):
        usage.log_event("search_click", user=user, asset=asset, search_id=search_id, position=position)
