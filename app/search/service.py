"""The search experience above the backend: requests from the page and API, ranking by use and
rating, rows reloaded from the database, snippets, facet labels, and search and click logging."""
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
from app.library.assets import Page, load_in_order, sees_drafts, today
from app.models import Asset, AssetKind, AssetVersion, Segment, Stage
from app.search import index
from app.search.backend import FACETS, Match, Query
from app.search.documents import SOURCE_CHARS, similarity_text
from app.search.snippets import snippet

SORTS = ("relevance", "most_used", "top_rated", "newest")
FACET_LABELS = {"segment": "Segment", "stage": "Stage", "kind": "Kind", "product": "Product"}
SORT_LABELS = {"relevance": "Relevance", "most_used": "Most used", "top_rated": "Top rated", "newest": "Newest"}
MAX_QUERY_CHARS = 200
RERANK_DEPTH = 200  # the best text matches re-ranked by use and rating; deeper pages keep text order
RECENT_USE_DAYS = 30
SEARCH_ID = re.compile(r"[0-9a-f]{16}|e[0-9]{1,12}")  # tokens, and event ids from before 0004


@dataclass
class SearchRequest:
    text: str = ""
    segment: list[str] = field(default_factory=list)
    stage: list[str] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    product: list[str] = field(default_factory=list)
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20
    include_hidden: bool = False  # marketers and admins see drafts, archived and expired

    def filters(self) -> dict[str, list[str]]:
        return {f: list(getattr(self, f)) for f in FACETS if getattr(self, f)}


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


def clean_text(raw: str) -> str:
    """Cap the length and drop control characters."""
    text = re.sub(r"[\x00-\x1f\x7f]", " ", raw or "")
    return text[:MAX_QUERY_CHARS].strip()


def build_request(user, *, text="", segment=(), stage=(), kind=(), product=(), sort="relevance",
                  page=1, per_page=20) -> SearchRequest:
    return SearchRequest(
        text=clean_text(text), segment=[str(s) for s in segment if str(s)],
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
    return load_in_order(ids, selectinload(Asset.segments), selectinload(Asset.stages),
                         selectinload(Asset.versions).defer(AssetVersion.text))


def snippet_sources(assets: list[Asset]) -> dict[int, str]:
    """Description, messaging and the current file's text of each asset, for snippets."""
    current = [a.current_version.id for a in assets if a.current_version]
    texts = dict(db.session.execute(
        select(AssetVersion.asset_id, func.substr(AssetVersion.text, 1, SOURCE_CHARS))
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


def _visible_on(include_hidden: bool):
    return None if include_hidden else today()


def backend_query(req: SearchRequest) -> Query:
    """What the backend is asked for a request: every match when the database's figures sort them,
    else the head of the ranking the requested page needs."""
    stop = req.page * req.per_page
    return Query(text=req.text, filters={f: frozenset(v) for f, v in req.filters().items()},
                 visible_on=_visible_on(req.include_hidden), newest_first=req.sort == "newest",
                 limit=None if req.sort in ("most_used", "top_rated")
                 else max(RERANK_DEPTH, stop) if req.sort == "relevance" else stop)


def _match(req: SearchRequest, signals: Signals) -> tuple[Match, list[int], dict[int, float]]:
    """The backend's match for `req`, and the requested page's ids and scores in their final order.

    "Most used" and "Top rated" sort every match by the database's figures; relevance re-ranks
    the best RERANK_DEPTH text matches by use and rating; "Newest" (and any query without
    searchable words) is the backend's own order.
    """
    start = (req.page - 1) * req.per_page
    stop = start + req.per_page
    query = backend_query(req)
    match = index.using(lambda backend: backend.match(query))
    if query.limit is None:
        weight = signals.weights(match.ids, req.sort)
        ordered = sorted(match.ids, key=lambda i: (-weight.get(i, 0.0), -i))[start:stop]
        return match, ordered, {i: weight.get(i, 0.0) for i in ordered}
    if req.sort == "newest" or not match.scored:
        ordered = match.ids[start:stop]
        return match, ordered, dict.fromkeys(ordered, 0.0)
    head = list(zip(match.ids, match.scores, strict=True))
    if stop > RERANK_DEPTH:
        return match, [i for i, _ in head[start:stop]], {i: round(sc, 4) for i, sc in head[start:stop]}
    boost = signals.weights([i for i, _ in head], "relevance")
    blended = {i: sc * boost.get(i, 1.0) for i, sc in head}
    ordered = sorted(blended, key=lambda i: (-blended[i], i))[start:stop]
    return match, ordered, {i: round(blended[i], 4) for i in ordered}


def run_search(user, req: SearchRequest, *, log: bool = True) -> SearchPage:
    """Search, then log it (first pages only, so paging does not count as new searches)."""
    signals = Signals()
    match, ids, scores = _match(req, signals)
    assets = load_assets(ids)
    signals.load([a.id for a in assets])
    sources = snippet_sources(assets)
    offset = (req.page - 1) * req.per_page
    results = [
        Result(a, snippet(sources[a.id], match.terms), scores.get(a.id, 0.0),
               signals.uses[a.id], signals.stars.get(a.id), offset + n)
        for n, a in enumerate(assets, start=1)
    ]
    suggestion = None
    if not match.total and req.text:
        suggestion = index.using(lambda backend: backend.correct(req.text, _visible_on(req.include_hidden)))
    facets = facet_options(req, match.facets)
    search_id = None
    if log and req.page == 1 and (req.text or req.filters()):
        search_id = secrets.token_hex(8)
        usage.log_event(
            "search", user=user, search_id=search_id, query=req.text, results=match.total, sort=req.sort,
            filters={f: [o.label for o in facets[f] if o.selected] for f in req.filters()},
        )
    return SearchPage(req, results, Page(results, match.total, req.page, req.per_page), facets,
                      suggestion, search_id, match.fell_back)


def suggestions(user, prefix: str, limit: int = 8) -> list[dict]:
    """Titles and tags for the search box as the user types."""
    visible_on = _visible_on(sees_drafts(user))
    ids, tags = index.using(lambda backend: backend.complete(clean_text(prefix), visible_on, limit))
    titles = [{"label": a.title, "kind": "title", "id": a.id} for a in load_assets(ids)]
    return titles + [{"label": t, "kind": "tag"} for t in tags]


def related(user, asset: Asset, limit: int = 4) -> list[Asset]:
    """"More like this": assets sharing the key terms of this one's text."""
    visible_on, text = _visible_on(sees_drafts(user)), similarity_text(asset)
    return load_assets(index.using(lambda backend: backend.similar(asset.id, text, visible_on, limit)))


def record_click(user, asset: Asset, search_id: str | None, position: int | None) -> None:
    """Log that a search result was opened, tied to the search that listed it.

    Reports pair a click with a search only when both are the same user's, so a forged `sid`
    can at most mark one's own searches as clicked.
    """
    if search_id and SEARCH_ID.fullmatch(search_id):
        usage.log_event("search_click", user=user, asset=asset, search_id=search_id, position=position)
