"""How much assets are used: top and bottom, per day, per kind; one asset's figures; the headline figures."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import DateTime, Integer, String, case, column, func, literal, select, union_all, values

from app import rollups
from app.extensions import db
from app.insights.content import ignored_counts
from app.insights.feedback import flags_open_at, ratings_in
from app.insights.scope import Scope, asset_filter, event_filter
from app.models import Asset, AssetKind, EventDay, Flag, Rating, Role, SearchDay, UsageEvent, User
from app.usage import USE_KINDS

# --- top and bottom, usage over time -----------------------------------------------------------

NO_SINGLE_ASSET = "Kits, deleted assets"  # uses of no single asset (a short label: a chart bar's)


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
    per kind of use.

    Every figure is derived in the database, so Python sees tens of rows at a million events: one
    statement counts uses per asset once (the costly part: a sort of the range's events) and takes
    the top, the bottom and the per-asset-kind totals from those counts, beside the per-kind totals;
    a second one splits the listed assets' uses by kind through the (asset, kind, time) index."""
    totals = (select(UsageEvent.asset_id.label("asset_id"), func.count().label("uses"))
              .where(event_filter(scope)).group_by(UsageEvent.asset_id).cte("totals"))
    top = (select(totals.c.asset_id).join(Asset, Asset.id == totals.c.asset_id).where(asset_filter(scope))
           .order_by(totals.c.uses.desc(), Asset.title, Asset.id).limit(limit).cte("top"))
    no_asset = literal(None, Integer)
    sections = [
        select(literal("event_kind"), no_asset, UsageEvent.kind, func.count())
        .where(event_filter(scope)).group_by(UsageEvent.kind),
        select(literal("asset_kind"), no_asset, Asset.kind, func.sum(totals.c.uses))
        .join(Asset, Asset.id == totals.c.asset_id).where(asset_filter(scope)).group_by(Asset.kind),
        select(literal("top"), top.c.asset_id, literal(None, String), literal(0)),
    ]
    if bottom:
        sections.append(select(literal("bottom"), Asset.id, literal(None, String), literal(0))
                        .outerjoin(totals, totals.c.asset_id == Asset.id).where(asset_filter(scope, live=True))
                        .order_by(func.coalesce(totals.c.uses, 0), Asset.title, Asset.id).limit(limit).subquery()
                        .select())
    by_event_kind: Counter = Counter()
    by_asset_kind: Counter = Counter()
    listed: dict[str, list[int]] = {"top": [], "bottom": []}
    for section, asset_id, kind, n in db.session.execute(union_all(*sections)):
        if section == "event_kind":
            by_event_kind[kind] += int(n)
        elif section == "asset_kind":
            by_asset_kind[AssetKind(kind).label] += int(n)
        else:
            listed[section].append(asset_id)
    # Uses of no single asset (a pitch kit's link, a deleted asset's events) count in the total: the
    # chart by asset kind says so, so that its bars add up to the headline.
    unattributed = sum(by_event_kind.values()) - sum(by_asset_kind.values())
    if unattributed > 0 and not scope.narrows_assets:
        by_asset_kind[NO_SINGLE_ASSET] = unattributed
    shown = {*listed["top"], *listed["bottom"]}
    per_kind: dict[int, Counter] = defaultdict(Counter)
    assets = {}
    if shown:
        for asset_id, kind, n in db.session.execute(
                select(UsageEvent.asset_id, UsageEvent.kind, func.count())
                .where(UsageEvent.asset_id.in_(shown), event_filter(scope))
                .group_by(UsageEvent.asset_id, UsageEvent.kind)):
            per_kind[asset_id][kind] = n
        assets = {r.id: r for r in db.session.execute(
            select(Asset.id, Asset.title, Asset.kind).where(Asset.id.in_(shown)))}

    def rows(section: str, order) -> list[AssetUse]:
        items = [AssetUse(i, assets[i].title, AssetKind(assets[i].kind).label, sum(per_kind[i].values()),
                          dict(per_kind[i])) for i in listed[section]]
        return sorted(items, key=order)

    return Usage(sum(by_event_kind.values()), rows("top", lambda a: (-a.uses, a.title, a.id)),
                 rows("bottom", lambda a: (a.uses, a.title, a.id)), uses_per_day(scope),
                 by_asset_kind.most_common(), {k: by_event_kind.get(k, 0) for k in USE_KINDS})


def uses_per_day(scope: Scope) -> list[tuple[date, int]]:
    """Uses on each day of the range, zero days included: one count of an index range per day
    (cheaper than grouping the range's events by a computed day, which sorts them)."""
    days = [scope.first_day + timedelta(days=n) for n in range(scope.days)]
    if rollups.daily(scope.start, scope.end) and not scope.narrows_assets:
        team = [EventDay.team_id == scope.team_id] if scope.team_id is not None else []
        per_day = dict(db.session.execute(
            select(EventDay.day, func.sum(EventDay.events))
            .where(EventDay.kind.in_(USE_KINDS), EventDay.day >= days[0], EventDay.day <= days[-1], *team)
            .group_by(EventDay.day)).all()) if days else {}
        return [(d, int(per_day.get(d, 0))) for d in days]
    bounds = values(column("first", DateTime), column("after", DateTime), name="days").data(
        [(datetime.combine(d, time()), datetime.combine(d + timedelta(days=1), time())) for d in days]).cte("days")
    counted = select(func.count()).where(
        event_filter(scope, in_range=False), UsageEvent.created_at >= bounds.c.first,
        UsageEvent.created_at < bounds.c.after).scalar_subquery()
    per_day = {first.date(): n for first, n in db.session.execute(select(bounds.c.first, counted))}
    return [(d, per_day.get(d, 0)) for d in days]


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
    reps = select(User.id).where(User.role == Role.REP.value, User.active.is_(True))
    if scope.team_id is not None:
        reps = reps.where(User.team_id == scope.team_id)
    all_reps = db.session.scalar(select(func.count()).select_from(reps.subquery()))
    if rollups.daily(scope.start, scope.end):
        searches, zero, active = _search_figures(scope, reps)
    else:
        in_range = [UsageEvent.created_at >= scope.start, UsageEvent.created_at < scope.end]
        team = [UsageEvent.team_id == scope.team_id] if scope.team_id is not None else []
        searches, zero = db.session.execute(
            select(func.count(), func.coalesce(func.sum(case((UsageEvent.context["results"].as_integer() == 0, 1),
                                                              else_=0)), 0))
            .where(UsageEvent.kind == "search", *in_range, *team)).one()
        active = db.session.scalar(select(func.count(func.distinct(UsageEvent.user_id))).where(
            UsageEvent.user_id.in_(reps), *in_range))
    ratings, average = db.session.execute(ratings_in(scope, func.count(), func.avg(Rating.stars))).one()
    unused, new = ignored_counts(scope)
    return Overview(usage.total, searches, zero, active, all_reps, ratings,
                    round(float(average), 2) if average is not None else None,
                    flags_open_at(scope), unused, new)


def _search_figures(scope: Scope, reps) -> tuple[int, int, int]:
    """Searches, those that found nothing, and active reps of a whole-day scope, from the summaries."""
    first, last = rollups.day_span(scope.start, scope.end)
    team = [SearchDay.team_id == scope.team_id] if scope.team_id is not None else []
    searches, zero = db.session.execute(
        select(func.coalesce(func.sum(SearchDay.searches), 0),
               func.coalesce(func.sum(SearchDay.zero_results - SearchDay.unknown_results), 0))
        .where(SearchDay.day >= first, SearchDay.day <= last, *team)).one()
    active = db.session.scalar(select(func.count(func.distinct(EventDay.user_id))).where(
        EventDay.user_id.in_(reps), EventDay.day >= first, EventDay.day <= last))
    return int(searches), int(zero), active
