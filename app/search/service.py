"""The search experience above the backend: requests from the page and API; reading a query and
matching it (strict, respelled, relaxed: `answer`); ranking by use and rating within a bound; rows
reloaded from the database and re-checked; snippets; facets; search and click logging."""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field, replace

from sqlalchemy import func, or_, select

from app import usage
from app.extensions import db
from app.library import freshness, ratings, taxonomy
from app.library.assets import Page, load_cards, sees_drafts, today, visible_to
from app.models import Asset, AssetKind, AssetVersion
from app.search import index, matching, spelling, synonyms, syntax
from app.search.backend import FACETS, Match, Node, Query, Unreadable, dimension_facet
from app.search.documents import SOURCE_CHARS
from app.search.signals import Signals
from app.search.snippets import Highlighter, snippet, source_text
from app.web import params

SORTS = ("relevance", "most_used", "top_rated", "newest")
FACET_LABELS = {"stage": "Stage", "kind": "Kind", "product": "Product"}  # a dimension's facet: its name
SORT_LABELS = {"relevance": "Relevance", "most_used": "Most used", "top_rated": "Top rated", "newest": "Newest"}
RERANK_DEPTH = 200  # the best text matches re-ranked by use and rating; deeper pages keep text order
SEARCH_ID = re.compile(r"[0-9a-f]{16}|e[0-9]{1,12}")  # tokens, and event ids from before 0004
FALLBACK_NOTICE = ("Search is being repaired, so these results only match words in titles and descriptions. "
                   "Try again in a minute.")


@dataclass
class SearchRequest:
    text: str = ""
    terms: list[str] = field(default_factory=list)  # taxonomy term ids, of any dimension
    stage: list[str] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    product: list[str] = field(default_factory=list)
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20
    include_hidden: bool = False  # marketers and admins see drafts, archived and expired
    literal: bool = False  # search the words as typed: no spelling corrections
    term_facets: dict[str, list[str]] = field(default_factory=dict)  # the terms by dimension facet
    freshness: list[str] = field(default_factory=list)  # keys of freshness.FILTERS (any of them)
    among: frozenset[int] | None = None  # with `freshness`: the assets in those states today

    def filters(self) -> dict[str, list[str]]:
        """Facet → chosen values: one facet per dimension (OR within, AND across), stage, kind, product."""
        chosen = {facet: list(ids) for facet, ids in self.term_facets.items()}
        chosen.update({f: list(getattr(self, f)) for f in FACETS if getattr(self, f)})
        return chosen

    def args(self, **changes) -> dict:
        """The request as query-string arguments (a link to it, some changed)."""
        args = {"q": self.text, "term": self.terms, "stage": self.stage, "kind": self.kind,
                "product": self.product, "freshness": self.freshness,
                "sort": self.sort if self.sort != "relevance" else None}
        args.update(changes)
        return {k: v for k, v in args.items() if v not in (None, "", [])}


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
class FacetGroup:
    key: str  # the backend's facet
    name: str  # in the API's answer and query string: "industry", "stage"
    label: str
    param: str  # the form field of the search page: "term" for every dimension
    options: list[FacetOption]


@dataclass
class SearchPage:
    request: SearchRequest
    results: list[Result]
    page: Page
    facets: list[FacetGroup]
    corrected: str | None = None  # results are for this respelling of the query
    suggestion: str | None = None  # a respelling that would find results (offered, not applied)
    relaxed: bool = False  # some results hold some, not all, of the words
    strict_total: int = 0  # results holding all the words (by the minimum-should-match rule)
    search_id: str | None = None
    query_error: bool = False
    notice: str | None = None  # the index is being repaired: results came from elsewhere
    freshness: list[FacetOption] = field(default_factory=list)  # the freshness filter (no counts)
    sort_labels: dict[str, str] = field(default_factory=lambda: dict(SORT_LABELS))


def clean_text(raw: str) -> str:
    """Control characters dropped; a long query (a pasted email) cut at its last whole word."""
    return syntax.cut(raw, matching.MAX_QUERY_CHARS)


def build_request(user, *, text="", terms=(), stage=(), kind=(), product=(), sort="relevance",
                  page=1, per_page=20, literal=False, fresh=()) -> SearchRequest:
    term_ids = [str(t) for t in terms if str(t).lstrip("-").isdigit()]
    dimension_of = taxonomy.dimension_of_terms(i for i in map(params.as_id, term_ids) if i)
    chosen = [f for f in dict.fromkeys(fresh) if f in freshness.FILTERS]
    term_facets: dict[str, list[str]] = {}
    for term_id in term_ids:  # an unknown term gets a facet of its own, which nothing has
        dimension = dimension_of.get(params.as_id(term_id))
        term_facets.setdefault(dimension_facet(dimension) if dimension else "dimension:none", []).append(term_id)
    return SearchRequest(
        text=clean_text(text), terms=term_ids, stage=[str(s) for s in stage if str(s)],
        kind=[k for k in kind if k], product=[p for p in product if p],
        sort=sort if sort in SORTS else "relevance", page=max(1, page), per_page=per_page,
        include_hidden=sees_drafts(user), literal=literal, term_facets=term_facets,
        freshness=chosen, among=freshness.assets_in(chosen) if chosen else None,
    )


def request_from_args(user, args, per_page: int = 20) -> SearchRequest:
    """The search parameters of a URL's query string (a MultiDict), shared by page and API: terms as
    ?term=ID (or per dimension, ?industry=Healthcare), stages by id or name."""
    stages = args.getlist("stage")
    found, unknown = taxonomy.stages_by_name([s for s in stages if not s.isdigit()])
    return build_request(
        user, text=args.get("q", ""), terms=taxonomy.term_ids_from(args),
        stage=[s for s in stages if s.isdigit()] + [str(s.id) for s in found] + (["-1"] if unknown else []),
        kind=args.getlist("kind"), product=args.getlist("product"),
        sort=args.get("sort", "relevance"), page=params.page_arg(args), per_page=per_page,
        literal=args.get("literal") == "1", fresh=args.getlist("freshness"),
    )


def load_assets(ids: list[int], user) -> list[Asset]:
    """The assets `user` may see today, in the given order, with what result cards show (not the
    versions' file text). Visibility is checked again here: the index may lag a change by a moment.
    (Checked on the rows loaded by id: as SQL, SQLite would read every live asset to apply it.)"""
    found = load_cards(ids)
    return found if sees_drafts(user) else [a for a in found if a.is_visible_on(today())]


def snippet_sources(assets: list[Asset]) -> dict[int, str]:
    """Description, messaging (as plain text) and the current file's text of each asset, for snippets."""
    current = [a.current_version.id for a in assets if a.current_version]
    texts = dict(db.session.execute(
        select(AssetVersion.asset_id, func.substr(AssetVersion.text, 1, SOURCE_CHARS))
        .where(AssetVersion.id.in_(current))).all()) if current else {}
    return {a.id: source_text(a.description, a.body, texts.get(a.id, "")) for a in assets}


def facet_groups(req: SearchRequest, counts: dict[str, dict[str, int]]) -> list[FacetGroup]:
    """One group per dimension, then stage, kind and product: values with matches, or chosen."""
    chosen = req.filters()
    groups = [(dimension_facet(d.id), taxonomy.slug(d.name), d.name, "term", {str(t.id): t.name for t in d.terms})
              for d in taxonomy.dimensions()]
    groups += [("stage", "stage", FACET_LABELS["stage"], "stage", {str(s.id): s.name for s in taxonomy.stages()}),
               ("kind", "kind", FACET_LABELS["kind"], "kind", {k.value: k.label for k in AssetKind}),
               ("product", "product", FACET_LABELS["product"], "product",
                {v: v for v in sorted(counts.get("product", {}))})]
    found = []
    for key, name, label, param, labels in groups:
        mine, picked = counts.get(key, {}), set(chosen.get(key, ()))
        found.append(FacetGroup(key, name, label, param, [
            FacetOption(value, text, mine.get(value, 0), value in picked)
            for value, text in labels.items() if mine.get(value) or value in picked]))
    return found


def _visible_on(include_hidden: bool):
    return None if include_hidden else today()


@dataclass
class Answer:
    """What the backend matched for a request, and how the query was taken."""

    match: Match
    corrected: str | None = None
    suggestion: str | None = None
    relaxed: bool = False
    leading: frozenset[int] = frozenset()  # with `relaxed`: the strict matches, ranked first
    repaired: bool = False  # some syntax could not be read as written
    notice: str | None = None

    @property
    def strict_total(self) -> int:
        return len(self.leading) if self.relaxed else self.match.total


def answer(user, req: SearchRequest, limit: int | None, table: matching.Synonyms | None = None) -> Answer:
    """Match the query strictly; if that finds nothing, respelled (unless `literal`); if that finds
    fewer than TOP_UP (under chosen filters: nothing), add what the relaxed query finds after it
    (matching.py). A damaged index answers from the database (`FALLBACK_NOTICE`)."""
    typed = syntax.read(req.text)
    if table is None:
        table = synonyms.table() if typed.words or typed.explicit else {}
    plan = matching.plan(typed, table)
    try:
        strict = _run(plan, plan.strict, req, limit)
        # Under chosen filters the rep has narrowed on purpose: a few strict matches stand (topping
        # them up with any-word matches gave more, noisier results than no filter at all); only an
        # empty answer is relaxed.
        enough = 1 if req.filters() or req.freshness else matching.TOP_UP
        if strict.total >= enough or not req.text or typed.explicit:
            return Answer(strict, repaired=typed.repaired)
        corrected = suggestion = respelled = None
        if not strict.total:
            respelled = _respelled(req, typed, plan, table)
        if respelled and req.literal:
            suggestion = respelled[0] if _run(respelled[1], respelled[1].strict, req, limit).total else None
            respelled = None
        if respelled and (found := _run(respelled[1], respelled[1].strict, req, limit)).total:
            (corrected, plan), strict, respelled = respelled, found, None
        # Relaxed as typed (or as corrected, when that found something); respelled only as a last resort.
        tries = [(plan, corrected)] + ([(respelled[1], respelled[0])] if respelled else [])
        for step_plan, fix in tries:
            if step_plan.relaxed is None:
                continue
            wider = _run(step_plan, step_plan.relaxed, req, limit)
            if wider.total > strict.total:
                return Answer(wider, corrected=fix, relaxed=True, leading=frozenset(strict.ids),
                              repaired=typed.repaired)
        return Answer(strict, corrected=corrected, suggestion=suggestion, repaired=typed.repaired)
    except Unreadable:
        return Answer(_fallback(user, req, typed, limit), notice=FALLBACK_NOTICE)


def _run(plan: matching.Plan, node: Node | None, req: SearchRequest, limit: int | None) -> Match:
    query = Query(match=node, slots=plan.slots, pairs=plan.pairs, coverage=plan.coverage,
                  pair_weight=plan.pair_weight, filters={f: frozenset(v) for f, v in req.filters().items()},
                  visible_on=_visible_on(req.include_hidden), among=req.among, newest_first=req.sort == "newest",
                  limit=limit)
    return index.using(lambda backend: backend.match(query))


def _respelled(req: SearchRequest, typed: syntax.Typed, plan: matching.Plan,
               table: matching.Synonyms) -> tuple[str, matching.Plan] | None:
    """The query with its misspelt words corrected from what the asker may see, and its plan; None
    when no word needs or finds a correction."""
    if not plan.words:
        return None
    visible_on = _visible_on(req.include_hidden)

    def known(words):
        return index.using(lambda backend: backend.known(words, visible_on))

    def keep(word: str) -> bool:
        return word in matching.STOP_WORDS or bool(matching.synonyms_of([word], table)[0])

    vocabulary = index.using(lambda backend: backend.vocabulary())
    fixes = spelling.corrections(plan.words, vocabulary, known, keep)
    if not fixes:
        return None
    text = spelling.respelled(req.text, fixes)
    return text, matching.plan(syntax.read(text), table)


def _fallback(user, req: SearchRequest, typed: syntax.Typed, limit: int | None) -> Match:
    """Assets whose title or description holds any of the words, newest first: while the index is
    repaired. No facet counts."""
    words = [w.casefold() for w in typed.words or syntax.words_in(req.text)][:matching.MAX_WORDS]
    query = visible_to(user, select(Asset.id))
    if words:
        query = query.where(or_(*[func.lower(column).contains(w, autoescape=True)
                                  for w in words for column in (Asset.title, Asset.description)]))
    if req.among is not None:
        query = query.where(Asset.id.in_(req.among))
    ids = list(db.session.scalars(query.order_by(Asset.updated_at.desc(), Asset.id.desc()).limit(limit or 1000)))
    return Match(ids=ids, scores=[0.0] * len(ids), total=len(ids), facets={}, terms=[], scored=False)


def backend_limit(req: SearchRequest) -> int | None:
    """How many ranked ids a request needs: every match when the database's figures sort them, else
    the head of the ranking the requested page needs."""
    stop = req.page * req.per_page
    if req.sort in ("most_used", "top_rated"):
        return None
    return max(RERANK_DEPTH, stop) if req.sort == "relevance" else stop


def backend_query(req: SearchRequest) -> Query:
    """The strict query of a request, as the backend gets it (for benchmarks measuring the backend alone)."""
    plan = matching.plan(syntax.read(req.text), synonyms.table())
    return Query(match=plan.strict, slots=plan.slots, pairs=plan.pairs, coverage=plan.coverage,
                 pair_weight=plan.pair_weight, filters={f: frozenset(v) for f, v in req.filters().items()},
                 visible_on=_visible_on(req.include_hidden), among=req.among, newest_first=req.sort == "newest",
                 limit=backend_limit(req))


def _ordered(req: SearchRequest, match: Match, signals: Signals,
             leading: frozenset[int] = frozenset()) -> tuple[list[int], dict[int, float]]:
    """The requested page's ids and scores in their final order.

    "Most used" and "Top rated" sort every match by the database's figures; relevance re-ranks
    the best RERANK_DEPTH text matches by use and rating, the `leading` ones (holding every word)
    first; "Newest" (and any query without searchable words) is the backend's own order.
    """
    start = (req.page - 1) * req.per_page
    stop = start + req.per_page
    if req.sort in ("most_used", "top_rated"):
        weight = signals.weights(match.ids, req.sort)
        ordered = sorted(match.ids, key=lambda i: (-weight.get(i, 0.0), -i))[start:stop]
        return ordered, {i: weight.get(i, 0.0) for i in ordered}
    if req.sort == "newest" or not match.scored:
        ordered = match.ids[start:stop]
        return ordered, dict.fromkeys(ordered, 0.0)
    head = list(zip(match.ids, match.scores, strict=True))
    if stop > RERANK_DEPTH:
        return [i for i, _ in head[start:stop]], {i: round(sc, 4) for i, sc in head[start:stop]}
    boost = signals.weights([i for i, _ in head], "relevance")
    blended = {i: sc * boost.get(i, 1.0) for i, sc in head}
    ordered = sorted(blended, key=lambda i: (i not in leading, -blended[i], i))[start:stop]
    return ordered, {i: round(blended[i], 4) for i in ordered}


def run_search(user, req: SearchRequest, *, log: bool = True) -> SearchPage:
    """Search, then log it (first pages only, so paging does not count as new searches)."""
    signals = Signals()
    found = answer(user, req, backend_limit(req))
    match = found.match
    ids, scores = _ordered(req, match, signals, found.leading)
    assets = load_assets(ids, user)
    signals.load([a.id for a in assets])
    sources = snippet_sources(assets)
    boilerplate = _boilerplate() if assets else {}
    words = Highlighter(match.terms)
    offset = (req.page - 1) * req.per_page
    results = [
        Result(a, snippet(sources[a.id], words, boilerplate=boilerplate.get(a.kind, ())),
               scores.get(a.id, 0.0), signals.uses[a.id], signals.stars.get(a.id), offset + n)
        for n, a in enumerate(assets, start=1)
    ]
    facets = facet_groups(req, match.facets)
    fresh = [FacetOption(key, label, 0, key in req.freshness) for key, label in freshness.FILTERS.items()]
    search_id = None
    if log and req.page == 1 and (req.text or req.filters() or req.freshness):
        search_id = secrets.token_hex(8)
        extra = {"corrected": found.corrected} if found.corrected else {}
        if found.relaxed:
            extra["relaxed"] = True
        usage.log_event(
            "search", user=user, search_id=search_id, query=req.text, results=match.total, sort=req.sort,
            filters={_filter_key(g): [o.label for o in g.options if o.selected]
                     for g in facets if any(o.selected for o in g.options)}
            | ({"Freshness": [o.label for o in fresh if o.selected]} if req.freshness else {}), **extra,
        )
    return SearchPage(req, results, Page(results, match.total, req.page, req.per_page), facets,
                      corrected=found.corrected, suggestion=found.suggestion, relaxed=found.relaxed,
                      strict_total=found.strict_total, search_id=search_id, query_error=found.repaired,
                      notice=found.notice, freshness=fresh)


def _filter_key(group: FacetGroup) -> str:
    """How a search event names a filter: a dimension by its name, other facets by their key."""
    return group.label if group.param == "term" else group.key


def _boilerplate() -> dict[str, frozenset[int]]:
    """Per kind of asset, the lines found in most of its documents when the index was built."""
    try:
        notes = index.using(lambda backend: backend.notes())
    except Unreadable:
        return {}
    return {kind: frozenset(keys) for kind, keys in (notes.get("boilerplate") or {}).items()}


def suggestions(user, prefix: str, limit: int = 8) -> list[dict]:
    """Titles and tags for the search box as the user types: only of assets the user may see."""
    visible_on = _visible_on(sees_drafts(user))
    try:
        ids, tags = index.using(lambda backend: backend.complete(clean_text(prefix), visible_on, limit))
    except Unreadable:
        return []
    titles = [{"label": a.title, "kind": "title", "id": a.id} for a in load_assets(ids, user)]
    return titles + [{"label": t, "kind": "tag"} for t in tags]


def related(user, asset: Asset, limit: int = 4) -> list[Asset]:
    """"More like this": live assets sharing the key terms of this one's text, for everyone (what
    can be used or sent instead; a marketer finds drafts and archived assets by searching)."""
    try:
        ids = index.using(lambda backend: backend.similar(asset.id, today(), limit))
    except Unreadable:
        return []
    return load_assets(ids, user)


def result_counts(user, texts) -> dict[str, int]:
    """How many assets a search for each text finds today as a rep sees the library (live assets only,
    with the page's corrections and relaxing), without logging: content gaps' "results now". The
    database is read once for all of them (synonyms), the rest is the index's."""
    base = build_request(user, per_page=1)
    base.include_hidden = False
    table = synonyms.table()
    return {text: answer(user, replace(base, text=clean_text(text)), 1, table).match.total
            for text in dict.fromkeys(texts)}


def record_click(user, asset: Asset, search_id: str | None, position: int | None) -> None:
    """Log that a search result was opened, tied to the search that listed it.

    Reports pair a click with a search only when both are the same user's, so a forged `sid`
    can at most mark one's own searches as clicked.
    """
    if search_id and SEARCH_ID.fullmatch(search_id):
        usage.log_event("search_click", user=user, asset=asset, search_id=search_id, position=position)

