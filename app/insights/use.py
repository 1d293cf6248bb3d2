"""How much assets are used: top and bottom, per day, per kind; one asset's figures; the headline figures."""
from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import case, func, select

from app.extensions import db
from app.insights.content import ignored
from app.insights.feedback import flags_open_at, ratings_in
from app.insights.scope import Scope, asset_filter, event_filter
from app.library.assets import live_clause
from app.models import Asset, AssetKind, Flag, Rating, Role, UsageEvent, User
from app.usage import USE_KINDS

# --- top and bottom, usage over time -----------------------------------------------------------

@dataclass
class AssetUse:
    id: int
    title: str
    kind: str
    uses: int
    by_kind: dict[str, int] = field(default_factory=dict)


@dataclass
class Usage:
    total: int
    top: list[AssetUse]
    bottom: list[AssetUse]
    per_day: list[tuple[date, int]]
    by_asset_kind: list[tuple[str, int]]
    by_event_kind: dict[str, int]


def usage_report(scope: Scope, limit: int = 10, bottom: bool = True) -> Usage:
    """Most (and unless `bottom` is False, least) used assets, uses per day, per asset kind and
    per kind of use. Without the bottom list only used assets are read, not the whole library."""
    counts = db.session.execute(
        select(UsageEvent.asset_id, UsageEvent.kind, func.count())
        .where(event_filter(scope)).group_by(UsageEvent.asset_id, UsageEvent.kind)
    ).all()
    per_asset: dict[int, Counter] = defaultdict(Counter)
    for asset_id, kind, n in counts:
        per_asset[asset_id][kind] += n
    uses = {i: sum(kinds.values()) for i, kinds in per_asset.items()}
    wanted = select(Asset.id, Asset.title, Asset.kind, live_clause().label("live")).where(asset_filter(scope))
    if not bottom:
        wanted = wanted.where(Asset.id.in_(select(UsageEvent.asset_id).where(event_filter(scope))))
    assets = {r.id: r for r in db.session.execute(wanted)}

    def row(asset_id: int) -> AssetUse:
        a = assets[asset_id]
        return AssetUse(a.id, a.title, AssetKind(a.kind).label, uses.get(asset_id, 0),
                        dict(per_asset.get(asset_id, {})))

    top = heapq.nsmallest(limit, (i for i in uses if i in assets),
                          key=lambda i: (-uses[i], assets[i].title, i))
    least = heapq.nsmallest(limit, (i for i, a in assets.items() if a.live),
                            key=lambda i: (uses.get(i, 0), assets[i].title, i)) if bottom else []
    by_asset_kind: Counter = Counter()
    by_event_kind: Counter = Counter()
    for asset_id, kinds in per_asset.items():
        if asset_id in assets:
            by_asset_kind[AssetKind(assets[asset_id].kind).label] += uses[asset_id]
        by_event_kind.update(kinds)
    return Usage(sum(uses.values()), [row(i) for i in top], [row(i) for i in least], uses_per_day(scope),
                 by_asset_kind.most_common(), {k: by_event_kind.get(k, 0) for k in USE_KINDS})


def uses_per_day(scope: Scope) -> list[tuple[date, int]]:
    """Uses on each day of the range, zero days included."""
    day = func.date(UsageEvent.created_at)
    counted = {str(d)[:10]: n for d, n in db.session.execute(
        select(day, func.count()).where(event_filter(scope)).group_by(day))}
    days = [scope.first_day + timedelta(days=n) for n in range(scope.days)]
    return [(d, counted.get(d.isoformat(), 0)) for d in days]


# --- one asset; the week's overview ------------------------------------------------------------

@dataclass
class AssetStats:
    uses: dict[str, int]
    last_used_at: datetime | None
    rating_average: float | None
    rating_count: int
    open_flags: int


def asset_stats(asset_id: int) -> AssetStats:
    """All-time events of each kind on one asset, its rating summary and open flags."""
    by_kind = dict(db.session.execute(
        select(UsageEvent.kind, func.count()).where(UsageEvent.asset_id == asset_id).group_by(UsageEvent.kind)).all())
    last_used = db.session.scalar(select(func.max(UsageEvent.created_at)).where(
        UsageEvent.asset_id == asset_id, UsageEvent.kind.in_(USE_KINDS)))
    average, count = db.session.execute(
        select(func.avg(Rating.stars), func.count()).where(Rating.asset_id == asset_id)).one()
    flags = db.session.scalar(select(func.count()).select_from(Flag).where(
        Flag.asset_id == asset_id, Flag.resolved_at.is_(None)))
    return AssetStats({k: by_kind.get(k, 0) for k in by_kind}, last_used,
                      round(float(average), 2) if average is not None else None, count, flags)


@dataclass
class Overview:
    uses: int
    searches: int
    zero_result_searches: int
    active_reps: int
    reps: int
    ratings: int
    rating_average: float | None
    open_flags: int
    ignored: int = 0  # live assets unused in the range (older than the grace period)
    new: int = 0  # live assets unused in the range, younger than the grace period


def headline(scope: Scope) -> Overview:
    """The headline figures of a scope: the overview page's, the weekly PDF's and the API's."""
    return overview(scope, usage_report(scope, bottom=False))


def overview(scope: Scope, usage: Usage) -> Overview:
    """Headline figures; `usage` is the usage report already computed for the same scope."""
    in_range = [UsageEvent.created_at >= scope.start, UsageEvent.created_at < scope.end]
    if scope.team_id is not None:
        in_range.append(UsageEvent.team_id == scope.team_id)
    searches, zero = db.session.execute(
        select(func.count(), func.coalesce(func.sum(case((UsageEvent.context["results"].as_integer() == 0, 1),
                                                          else_=0)), 0))
        .where(UsageEvent.kind == "search", *in_range)).one()
    reps = select(User.id).where(User.role == Role.REP.value, User.active.is_(True))
    if scope.team_id is not None:
        reps = reps.where(User.team_id == scope.team_id)
    all_reps = db.session.scalar(select(func.count()).select_from(reps.subquery()))
    active = db.session.scalar(select(func.count(func.distinct(UsageEvent.user_id))).where(
        UsageEvent.user_id.in_(reps), UsageEvent.created_at >= scope.start, UsageEvent.created_at < scope.end))
    ratings, average = db.session.execute(ratings_in(scope, func.count(), func.avg(Rating.stars))).one()
    unused = ignored(scope)
    return Overview(usage.total, searches, zero, active, all_reps, ratings,
                    round(float(average), 2) if average is not None else None,
                    flags_open_at(scope), unused.total, len(unused.new))
