"""Content gaps: worded searches that found nothing or led to no click; how many results each finds
now, and the ones answered since (they find something now) or dismissed by a marketer."""
from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import aliased

from app import rollups
from app.database import transaction
from app.extensions import db
from app.insights.scope import Scope, folded
from app.models import AssetKind, DismissedGap, SearchDay, Stage, Term, UsageEvent, User

# --- content gaps ----------------------------------------------------------------------------

@dataclass
class Gap:
    query: str
    searches: int = 0
    zero_results: int = 0
    no_click: int = 0
    filters: Counter = field(default_factory=Counter)
    results_now: int | None = None  # what the query finds today, as a rep (None: not counted)
    dismissed: bool = False

    @property
    def filters_used(self) -> list[str]:
        return [f"{label} ({n})" for label, n in self.filters.most_common(4)]

    @property
    def answered(self) -> bool:
        """It found nothing then and finds something now, and no search of it found results that
        nobody opened. (A no-click gap found results all along: only a marketer can say it is dealt
        with, by dismissing it. A query that once found nothing and since leads nowhere is still a gap.)"""
        return self.zero_results > 0 and self.no_click == 0 and bool(self.results_now)

    @property
    def resolution(self) -> str:
        if self.dismissed:
            return "Dismissed"
        return f"Answered: finds {self.results_now} now" if self.answered else ""


@dataclass
class GapBoard:
    open: list[Gap]
    resolved: list[Gap]  # answered or dismissed


GapCounter = Callable[[list[str]], dict[str, int]]


def gap_board(scope: Scope, count: GapCounter | None = None, limit: int = 100) -> GapBoard:
    """Content gaps split into open and resolved; `count(queries)` says how many results each query
    finds now (the search service's counts, given by the caller: insights do not import search)."""
    dismissed = set(db.session.scalars(select(DismissedGap.query)))
    board = GapBoard([], [])
    gaps = content_gaps(scope, limit)
    counts = count([g.query for g in gaps]) if count is not None and gaps else {}
    for gap in gaps:
        gap.dismissed = gap.query in dismissed
        gap.results_now = counts.get(gap.query)
        (board.resolved if gap.dismissed or gap.answered else board.open).append(gap)
    return board


def dismiss(user: User, query: str) -> str:
    """Set a gap aside ("not something we will write"); returns the query as gaps group it."""
    text = folded(query)[:500]
    if text and db.session.scalar(select(DismissedGap.id).where(DismissedGap.query == text)) is None:
        with transaction():
            db.session.add(DismissedGap(query=text, user_id=user.id))
    return text


def restore(query: str) -> str:
    """Put a dismissed gap back among the open ones."""
    text = folded(query)[:500]
    with transaction():
        db.session.execute(DismissedGap.__table__.delete().where(DismissedGap.query == text))
    return text


def content_gaps(scope: Scope, limit: int = 100) -> list[Gap]:
    """Worded searches grouped by normalised query: how many found nothing, how many led to no click.

    A search counts as clicked when the same user opened a result carrying its search id.
    A term, stage and kind narrow to searches that filtered on them.
    """
    if rollups.daily(scope.start, scope.end):
        first, last = rollups.day_span(scope.start, scope.end)
        query = (select(SearchDay.query, SearchDay.filters, func.sum(SearchDay.searches),
                        func.sum(SearchDay.zero_results), func.sum(SearchDay.no_click))
                 .where(SearchDay.day >= first, SearchDay.day <= last, SearchDay.query != "")
                 .group_by(SearchDay.query, SearchDay.filters))
        if scope.team_id is not None:
            query = query.where(SearchDay.team_id == scope.team_id)
        return _gaps(scope, db.session.execute(query), limit)
    click = aliased(UsageEvent)
    # The click is found through the search id's index: `kind` is compared through coalesce() so that
    # SQLite, without statistics, does not pick the (kind, …) index instead and read every click in the
    # log for each search (a 30-day page at a million events took minutes that way).
    clicked = exists().where(click.search_id == UsageEvent.search_id, func.coalesce(click.kind, "") == "search_click",
                             click.user_id == UsageEvent.user_id)
    context = UsageEvent.context
    # Grouped in the database by the query as typed and the filters it used (only those JSON fields
    # are read): Python sees one row per distinct query, not one per search, and folds case and spacing.
    typed, filters = context["query"].as_string(), context["filters"].as_string()
    results = func.coalesce(context["results"].as_integer(), 0)
    query = (select(typed, filters, func.count(), func.sum(case((results == 0, 1), else_=0)),
                    func.sum(case((and_(results > 0, ~clicked), 1), else_=0)))
             .where(UsageEvent.kind == "search", UsageEvent.created_at >= scope.start,
                    UsageEvent.created_at < scope.end)
             .group_by(typed, filters))
    if scope.team_id is not None:
        query = query.where(UsageEvent.team_id == scope.team_id)
    return _gaps(scope, db.session.execute(query), limit)


def _gaps(scope: Scope, rows, limit: int) -> list[Gap]:
    """Gaps from (query, filters as JSON, searches, zero results, not clicked) rows, folding the queries."""
    wanted = _filter_labels(scope)
    gaps: dict[str, Gap] = {}
    for raw_query, filters_json, searches, zero, no_click in rows:
        searches = int(searches)
        text = folded(raw_query or "")
        used = _filter_names(filters_json)
        if not text or not wanted <= used:
            continue
        gap = gaps.get(text) or gaps.setdefault(text, Gap(text))
        gap.searches += searches
        gap.zero_results += int(zero)
        gap.no_click += int(no_click)
        gap.filters.update(dict.fromkeys(used, searches))
    found = [g for g in gaps.values() if g.zero_results or g.no_click]
    return sorted(found, key=lambda g: (-g.zero_results, -g.no_click, -g.searches, g.query))[:limit]


@functools.lru_cache(maxsize=256)
def _filter_names(filters_json: str | None) -> frozenset[str]:
    """{"Industry": ["Retail"]} as {"Industry: Retail"}; searches repeat a few filter sets."""
    if not filters_json or filters_json == "{}":
        return frozenset()
    try:
        filters = json.loads(filters_json)
    except ValueError:  # a summary row's filters cut at rollups.FILTER_CHARS: hundreds of labels, none shown
        return frozenset()
    return frozenset(f"{facet_title(facet)}: {label}" for facet, labels in filters.items() for label in labels)


def facet_title(key: str) -> str:
    """How a search event's filter key reads: "stage" → "Stage"; dimensions are named already."""
    return key[:1].upper() + key[1:]


def _filter_labels(scope: Scope) -> set[str]:
    """The scope's term, stage and kind as a search event records its filters."""
    labels = set()
    if scope.term_id is not None and (term := db.session.get(Term, scope.term_id)):
        labels.add(f"{facet_title(term.dimension.name)}: {term.name}")
    if scope.stage_id is not None and (stage := db.session.get(Stage, scope.stage_id)):
        labels.add(f"Stage: {stage.name}")
    if scope.kind is not None:
        labels.add(f"Kind: {AssetKind(scope.kind).label}")
    return labels
