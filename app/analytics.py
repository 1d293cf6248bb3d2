"""Insights figures, each a recount of the usage log (and ratings and flags) over a Scope.

Definitions (the README's Insights section says the same):
- a *use* is an event of kind view, download, copy, customize or share;
- *live* assets are published and not expired today;
- a scope is a half-open UTC range [start, end), optionally narrowed to assets of a segment,
  stage or kind, and to events of one team (managers always see only their own team).
"""
from __future__ import annotations

import functools
import heapq
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import aliased

from .assets import live_clause, today
from .extensions import db
from .models import (Asset, AssetKind, Flag, GeneratedDocument, Rating, Role, Segment, ShareLink, Stage,
                     Team, UsageEvent, User, asset_segment, asset_stage, utcnow)
from .usage import USE_KINDS

PERIODS = (7, 30, 90)
DEFAULT_DAYS = 30
MAX_RANGE_DAYS = 731
INFLUENCE_MIN_DEALS = 5  # deals with and without the asset, each, before a win rate is shown


@dataclass(frozen=True)
class Scope:
    start: datetime
    end: datetime
    segment_id: int | None = None
    stage_id: int | None = None
    kind: str | None = None
    team_id: int | None = None

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def first_day(self) -> date:
        return self.start.date()

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(days=1)).date()

    @property
    def narrows_assets(self) -> bool:
        return any(v is not None for v in (self.segment_id, self.stage_id, self.kind))


def day_range(first: date, last: date, **filters) -> Scope:
    """The scope of whole UTC days from `first` to `last`, both included."""
    return Scope(datetime.combine(first, time()), datetime.combine(last + timedelta(days=1), time()), **filters)


def last_days(days: int, **filters) -> Scope:
    """The last `days` days, today included."""
    now = today()
    return day_range(now - timedelta(days=days - 1), now, **filters)


def iso_week(label: str) -> Scope:
    """Monday to Sunday of an ISO week written like 2026-W47."""
    match = re.fullmatch(r"(\d{4})-?W(\d{1,2})", label.strip(), re.IGNORECASE)
    if not match:
        raise ValueError(f"{label!r} is not an ISO week like 2026-W47")
    monday = date.fromisocalendar(int(match[1]), int(match[2]), 1)
    return day_range(monday, monday + timedelta(days=6))


def recent_weeks(count: int) -> list[str]:
    """Labels of the last `count` complete ISO weeks, newest first."""
    monday = today() - timedelta(days=today().weekday())
    weeks = [monday - timedelta(weeks=n) for n in range(1, count + 1)]
    return ["{}-W{:02d}".format(*w.isocalendar()[:2]) for w in weeks]


def scope_from_args(user, args) -> Scope:
    """Read the filter bar: `days` or `from`/`to`, `segment`, `stage`, `kind`, `team`.

    Malformed values fall back to defaults; a manager's scope is always their own team.
    """
    def as_int(name):
        try:
            return int(args.get(name) or "")
        except ValueError:
            return None

    def as_date(name):
        try:
            return date.fromisoformat(args.get(name) or "")
        except ValueError:
            return None

    first, last = as_date("from"), as_date("to")
    if first and last and first <= last and (last - first).days <= MAX_RANGE_DAYS:
        scope = day_range(first, last)
    else:
        days = as_int("days")
        scope = last_days(days if days and 0 < days <= MAX_RANGE_DAYS else DEFAULT_DAYS)
    kind = args.get("kind") or None
    team_id = as_int("team")
    if user.role == Role.MANAGER.value:
        team_id = user.team_id or -1
    return replace(scope, segment_id=as_int("segment"), stage_id=as_int("stage"),
                   kind=kind if kind in {k.value for k in AssetKind} else None, team_id=team_id)


def scope_names(scope: Scope) -> list[str]:
    """Names of the segment, stage, kind and team a scope is narrowed to."""
    names = []
    if scope.segment_id is not None:
        names.append(getattr(db.session.get(Segment, scope.segment_id), "name", "unknown segment"))
    if scope.stage_id is not None:
        names.append(getattr(db.session.get(Stage, scope.stage_id), "name", "unknown stage"))
    if scope.kind is not None:
        names.append(AssetKind(scope.kind).label)
    if scope.team_id is not None:
        names.append(getattr(db.session.get(Team, scope.team_id), "name", "no team"))
    return names


# --- building blocks -------------------------------------------------------------------------

def _asset_filter(scope: Scope, *, live: bool = False):
    """Conditions on Asset for the scope's segment, stage and kind (and liveness)."""
    conditions = [live_clause()] if live else []
    if scope.segment_id is not None:
        conditions.append(Asset.id.in_(select(asset_segment.c.asset_id).where(
            asset_segment.c.segment_id == scope.segment_id)))
    if scope.stage_id is not None:
        conditions.append(Asset.id.in_(select(asset_stage.c.asset_id).where(
            asset_stage.c.stage_id == scope.stage_id)))
    if scope.kind is not None:
        conditions.append(Asset.kind == scope.kind)
    return and_(True, *conditions)


def _event_filter(scope: Scope, kinds=USE_KINDS, event=UsageEvent, in_range: bool = True):
    conditions = [event.kind.in_(kinds)]
    if in_range:
        conditions += [event.created_at >= scope.start, event.created_at < scope.end]
    if scope.team_id is not None:
        conditions.append(event.team_id == scope.team_id)
    if scope.narrows_assets:
        conditions.append(event.asset_id.in_(select(Asset.id).where(_asset_filter(scope))))
    return and_(*conditions)


def uses_by_asset(scope: Scope) -> dict[int, int]:
    query = (select(UsageEvent.asset_id, func.count()).where(_event_filter(scope))
             .group_by(UsageEvent.asset_id))
    return dict(db.session.execute(query).all())


def _owner_names(owner_ids) -> dict[int, str]:
    ids = {i for i in owner_ids if i}
    return dict(db.session.execute(select(User.id, User.name).where(User.id.in_(ids))).all()) if ids else {}


def _titles(asset_ids) -> dict[int, str]:
    ids = list(asset_ids)
    return dict(db.session.execute(select(Asset.id, Asset.title).where(Asset.id.in_(ids))).all()) if ids else {}


# --- ignored content -------------------------------------------------------------------------

@dataclass
class IgnoredAsset:
    id: int
    title: str
    kind: str
    owner: str
    created_at: datetime
    last_used_at: datetime | None

    @property
    def age_days(self) -> int:
        return (utcnow() - self.created_at).days


@dataclass
class Ignored:
    not_used: list[IgnoredAsset]   # used before, but not in the range
    never_used: list[IgnoredAsset]

    @property
    def total(self) -> int:
        return len(self.not_used) + len(self.never_used)


def ignored(scope: Scope) -> Ignored:
    """Live assets with no use in the range, with the last use before the range's end."""
    used_in_range = exists().where(UsageEvent.asset_id == Asset.id, _event_filter(scope))
    last_used = (select(func.max(UsageEvent.created_at))
                 .where(UsageEvent.asset_id == Asset.id, UsageEvent.created_at < scope.end,
                        _event_filter(scope, in_range=False))
                 .scalar_subquery())
    rows = db.session.execute(
        select(Asset.id, Asset.title, Asset.kind, Asset.owner_id, Asset.created_at, last_used)
        .where(_asset_filter(scope, live=True), ~used_in_range)
        .order_by(Asset.created_at, Asset.id)
    ).all()
    owners = _owner_names(r.owner_id for r in rows)
    items = [IgnoredAsset(r.id, r.title, AssetKind(r.kind).label, owners.get(r.owner_id, "—"),
                          r.created_at, r[5]) for r in rows]
    not_used = sorted((i for i in items if i.last_used_at), key=lambda i: (i.last_used_at, i.id))
    return Ignored(not_used, [i for i in items if not i.last_used_at])


# --- coverage grid ---------------------------------------------------------------------------

@dataclass
class Cell:
    segment: str
    stage: str
    assets: int = 0
    uses: int = 0
    ignored: int = 0  # assets of the cell with no use in the range

    @property
    def state(self) -> str:
        if not self.assets:
            return "empty"
        if self.ignored == self.assets:
            return "ignored"
        return "partly-ignored" if self.ignored else "used"


@dataclass
class Coverage:
    segments: list[str]
    stages: list[str]
    cells: list[Cell]

    def cell(self, segment: str, stage: str) -> Cell:
        return self._index[(segment, stage)]

    def __post_init__(self):
        self._index = {(c.segment, c.stage): c for c in self.cells}


def coverage(scope: Scope) -> Coverage:
    """Segment × stage: live assets in each cell and their uses in the range."""
    segments = [s for s in db.session.scalars(select(Segment).order_by(Segment.position, Segment.name))
                if scope.segment_id in (None, s.id)]
    stages = [s for s in db.session.scalars(select(Stage).order_by(Stage.position, Stage.name))
              if scope.stage_id in (None, s.id)]
    pairs = db.session.execute(
        select(asset_segment.c.segment_id, asset_stage.c.stage_id, asset_segment.c.asset_id)
        .join(asset_stage, asset_stage.c.asset_id == asset_segment.c.asset_id)
        .join(Asset, Asset.id == asset_segment.c.asset_id)
        .where(_asset_filter(replace(scope, segment_id=None, stage_id=None), live=True))
    ).all()
    uses = uses_by_asset(scope)
    cells = {(seg.id, stg.id): Cell(seg.name, stg.name) for seg in segments for stg in stages}
    for segment_id, stage_id, asset_id in pairs:
        if cell := cells.get((segment_id, stage_id)):
            cell.assets += 1
            cell.uses += uses.get(asset_id, 0)
            cell.ignored += not uses.get(asset_id)
    return Coverage([s.name for s in segments], [s.name for s in stages], list(cells.values()))


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
        .where(_event_filter(scope)).group_by(UsageEvent.asset_id, UsageEvent.kind)
    ).all()
    per_asset: dict[int, Counter] = defaultdict(Counter)
    for asset_id, kind, n in counts:
        per_asset[asset_id][kind] += n
    uses = {i: sum(kinds.values()) for i, kinds in per_asset.items()}
    wanted = select(Asset.id, Asset.title, Asset.kind, live_clause().label("live")).where(_asset_filter(scope))
    if not bottom:
        wanted = wanted.where(Asset.id.in_(select(UsageEvent.asset_id).where(_event_filter(scope))))
    assets = {r.id: r for r in db.session.execute(wanted)}

    def row(asset_id: int) -> AssetUse:
        a = assets[asset_id]
        return AssetUse(a.id, a.title, AssetKind(a.kind).label, uses.get(asset_id, 0), dict(per_asset.get(asset_id, {})))

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
        select(day, func.count()).where(_event_filter(scope)).group_by(day))}
    days = [scope.first_day + timedelta(days=n) for n in range(scope.days)]
    return [(d, counted.get(d.isoformat(), 0)) for d in days]


# --- adoption --------------------------------------------------------------------------------

@dataclass
class RepActivity:
    id: int
    name: str
    team: str
    uses: int
    searches: int
    last_active_at: datetime | None


@dataclass
class TeamAdoption:
    name: str
    reps: int
    active: int
    uses: int

    @property
    def uses_per_rep(self) -> float:
        return round(self.uses / self.reps, 1) if self.reps else 0.0


@dataclass
class Adoption:
    reps: list[RepActivity]
    teams: list[TeamAdoption]
    never: list[RepActivity]  # reps with no event at all, ever

    @property
    def active(self) -> int:
        return sum(1 for r in self.reps if r.last_active_at)

    @property
    def total_uses(self) -> int:
        return sum(r.uses for r in self.reps)

    @property
    def uses_per_rep(self) -> float:
        return round(self.total_uses / len(self.reps), 1) if self.reps else 0.0


def adoption(scope: Scope) -> Adoption:
    """Reps active in the range (any event), their uses and searches, by rep and team."""
    reps_query = (select(User.id, User.name, Team.name.label("team"))
                  .outerjoin(Team, Team.id == User.team_id)
                  .where(User.role == Role.REP.value, User.active.is_(True)).order_by(User.name))
    if scope.team_id is not None:
        reps_query = reps_query.where(User.team_id == scope.team_id)
    people = db.session.execute(reps_query).all()
    ids = [p.id for p in people]
    in_range = and_(UsageEvent.user_id.in_(ids), UsageEvent.created_at >= scope.start,
                    UsageEvent.created_at < scope.end)
    last_active = dict(db.session.execute(
        select(UsageEvent.user_id, func.max(UsageEvent.created_at)).where(in_range)
        .group_by(UsageEvent.user_id)).all())
    uses = dict(db.session.execute(
        select(UsageEvent.user_id, func.count()).where(in_range, _event_filter(scope, in_range=False))
        .group_by(UsageEvent.user_id)).all())
    searches = dict(db.session.execute(
        select(UsageEvent.user_id, func.count()).where(in_range, UsageEvent.kind == "search")
        .group_by(UsageEvent.user_id)).all())
    ever = set(db.session.scalars(select(UsageEvent.user_id).where(UsageEvent.user_id.in_(ids)).distinct()))
    reps = [RepActivity(p.id, p.name, p.team or "—", uses.get(p.id, 0), searches.get(p.id, 0),
                        last_active.get(p.id)) for p in people]
    teams: dict[str, TeamAdoption] = {}
    for rep in reps:
        team = teams.setdefault(rep.team, TeamAdoption(rep.team, 0, 0, 0))
        team.reps += 1
        team.active += rep.last_active_at is not None
        team.uses += rep.uses
    reps.sort(key=lambda r: (-r.uses, r.name))
    return Adoption(reps, sorted(teams.values(), key=lambda t: t.name), [r for r in reps if r.id not in ever])


# --- ratings and flags -----------------------------------------------------------------------

@dataclass
class RatedAsset:
    id: int
    title: str
    average: float
    count: int
    comments: list[str]


@dataclass
class FlaggedAsset:
    id: int
    title: str
    owner: str
    open_flags: int
    reasons: list[str]


@dataclass
class RatingsReport:
    distribution: dict[int, int]
    lowest: list[RatedAsset]
    flagged: list[FlaggedAsset]

    @property
    def count(self) -> int:
        return sum(self.distribution.values())

    @property
    def average(self) -> float | None:
        return round(sum(s * n for s, n in self.distribution.items()) / self.count, 2) if self.count else None


def _ratings_in(scope: Scope, *columns):
    """Ratings given or changed in the range, on the scope's assets, by the scope's team."""
    query = (select(*(columns or (Rating,))).join(Asset, Asset.id == Rating.asset_id)
             .where(Rating.updated_at >= scope.start, Rating.updated_at < scope.end, _asset_filter(scope)))
    if scope.team_id is not None:
        query = query.where(Rating.user_id.in_(select(User.id).where(User.team_id == scope.team_id)))
    return query


def ratings_report(scope: Scope, limit: int = 10) -> RatingsReport:
    """Ratings given in the range: stars distribution, lowest rated assets with comments; open flags."""
    rated = list(db.session.scalars(_ratings_in(scope)))
    distribution = {stars: 0 for stars in range(1, 6)}
    per_asset: dict[int, list[Rating]] = defaultdict(list)
    for rating in rated:
        distribution[rating.stars] += 1
        per_asset[rating.asset_id].append(rating)
    titles = _titles(per_asset)
    lowest = sorted(
        (RatedAsset(i, titles[i], round(sum(r.stars for r in rs) / len(rs), 2), len(rs),
                    [r.comment for r in sorted(rs, key=lambda r: r.updated_at, reverse=True) if r.comment])
         for i, rs in per_asset.items()),
        key=lambda a: (a.average, -a.count, a.title))[:limit]
    return RatingsReport(distribution, lowest, open_flags(scope))


def open_flags(scope: Scope) -> list[FlaggedAsset]:
    """Assets with unresolved flags (raised any time; by the team's members for a team scope)."""
    query = (select(Flag.asset_id, Asset.title, Asset.owner_id, Flag.reason)
             .join(Asset, Asset.id == Flag.asset_id)
             .where(Flag.resolved_at.is_(None), _asset_filter(scope)).order_by(Flag.created_at))
    if scope.team_id is not None:
        query = query.where(Flag.user_id.in_(select(User.id).where(User.team_id == scope.team_id)))
    rows = db.session.execute(query).all()
    owners = _owner_names(r.owner_id for r in rows)
    flagged: dict[int, FlaggedAsset] = {}
    for r in rows:
        item = flagged.setdefault(r.asset_id, FlaggedAsset(r.asset_id, r.title, owners.get(r.owner_id, "—"), 0, []))
        item.open_flags += 1
        if r.reason not in item.reasons:
            item.reasons.append(r.reason)
    return sorted(flagged.values(), key=lambda f: (-f.open_flags, f.title))


# --- content gaps ----------------------------------------------------------------------------

@dataclass
class Gap:
    query: str
    searches: int = 0
    zero_results: int = 0
    no_click: int = 0
    filters: Counter = field(default_factory=Counter)

    @property
    def filters_used(self) -> list[str]:
        return [f"{label} ({n})" for label, n in self.filters.most_common(4)]


def normalise_query(text: str) -> str:
    return " ".join(text.casefold().split())


def content_gaps(scope: Scope, limit: int = 100) -> list[Gap]:
    """Worded searches grouped by normalised query: how many found nothing, how many led to no click.

    A search counts as clicked when the same user opened a result carrying its search id.
    Segment, stage and kind narrow to searches that filtered on them.
    """
    click = aliased(UsageEvent)
    clicked = exists().where(click.search_id == UsageEvent.search_id, click.kind == "search_click",
                             click.user_id == UsageEvent.user_id)
    context = UsageEvent.context
    # Only three fields of the JSON are needed: extracting them in SQL spares decoding each row.
    query = (select(context["query"].as_string(), context["results"].as_integer(),
                    context["filters"].as_string(), case((clicked, 1), else_=0))
             .where(UsageEvent.kind == "search", UsageEvent.created_at >= scope.start,
                    UsageEvent.created_at < scope.end))
    if scope.team_id is not None:
        query = query.where(UsageEvent.team_id == scope.team_id)
    wanted = _filter_labels(scope)
    gaps: dict[str, Gap] = {}
    for raw_query, results, filters, was_clicked in db.session.execute(query):
        text = normalise_query(raw_query or "")
        used = _filter_names(filters)
        if not text or not wanted <= used:
            continue
        gap = gaps.get(text) or gaps.setdefault(text, Gap(text))
        gap.searches += 1
        results = results or 0
        gap.zero_results += results == 0
        gap.no_click += results > 0 and not was_clicked
        gap.filters.update(used)
    found = [g for g in gaps.values() if g.zero_results or g.no_click]
    return sorted(found, key=lambda g: (-g.zero_results, -g.no_click, -g.searches, g.query))[:limit]


@functools.lru_cache(maxsize=256)
def _filter_names(filters_json: str | None) -> frozenset[str]:
    """{"segment": ["Retail"]} as {"Segment: Retail"}; searches repeat a few filter sets."""
    if not filters_json or filters_json == "{}":
        return frozenset()
    return frozenset(f"{facet.title()}: {label}" for facet, labels in json.loads(filters_json).items()
                     for label in labels)


def _filter_labels(scope: Scope) -> set[str]:
    """The scope's segment, stage and kind as a search event records its filters."""
    labels = set()
    if scope.segment_id is not None and (seg := db.session.get(Segment, scope.segment_id)):
        labels.add(f"Segment: {seg.name}")
    if scope.stage_id is not None and (stage := db.session.get(Stage, scope.stage_id)):
        labels.add(f"Stage: {stage.name}")
    if scope.kind is not None:
        labels.add(f"Kind: {AssetKind(scope.kind).label}")
    return labels


# --- influence -------------------------------------------------------------------------------

@dataclass
class Influence:
    id: int
    title: str
    deals_with: int
    won_with: int
    deals_without: int
    won_without: int

    @property
    def win_rate_with(self) -> float:
        return round(self.won_with / self.deals_with, 3) if self.deals_with else 0.0

    @property
    def win_rate_without(self) -> float:
        return round(self.won_without / self.deals_without, 3) if self.deals_without else 0.0

    @property
    def lift(self) -> float:
        return round(self.win_rate_with - self.win_rate_without, 3)


@dataclass
class InfluenceReport:
    deals: int
    won: int
    shown: list[Influence]
    below_sample: int  # assets used in deals, too few to compare
    min_deals: int = INFLUENCE_MIN_DEALS


def influence(scope: Scope, min_deals: int = INFLUENCE_MIN_DEALS) -> InfluenceReport:
    """Win rate of closed deals where an asset was used against those where it was not.

    A deal is an account name (case and spacing ignored) named on ratings; its outcome is the
    won/lost of its most recently updated rating; an asset was used in it when a rating of that
    asset names the account.
    """
    rows = db.session.execute(
        _ratings_in(scope, Rating.asset_id, Rating.account, Rating.outcome, Rating.updated_at)
        .where(Rating.account != "")).all()
    outcome: dict[str, tuple[datetime, str]] = {}
    used_in: dict[int, set[str]] = defaultdict(set)
    for asset_id, account, result, updated_at in rows:
        deal = normalise_query(account)
        used_in[asset_id].add(deal)
        if result in ("won", "lost") and (deal not in outcome or updated_at >= outcome[deal][0]):
            outcome[deal] = (updated_at, result)
    closed = {deal: result for deal, (_, result) in outcome.items()}
    won_total = sum(1 for r in closed.values() if r == "won")
    titles = _titles(used_in)
    shown, below = [], 0
    for asset_id, deals in used_in.items():
        with_deals = [d for d in deals if d in closed]
        if not with_deals:
            continue
        won_with = sum(1 for d in with_deals if closed[d] == "won")
        item = Influence(asset_id, titles.get(asset_id, "(deleted)"), len(with_deals), won_with,
                         len(closed) - len(with_deals), won_total - won_with)
        if item.deals_with >= min_deals and item.deals_without >= min_deals:
            shown.append(item)
        else:
            below += 1
    shown.sort(key=lambda i: (-i.lift, i.title))
    return InfluenceReport(len(closed), won_total, shown, below, min_deals)


# --- shares with prospects ---------------------------------------------------------------------

@dataclass
class SharedAsset:
    id: int
    title: str
    links: int = 0          # links created in the range
    opened_links: int = 0   # of those, opened at least once by a prospect (any time)
    opens: int = 0          # prospect opens in the range, of any link
    downloads: int = 0

    @property
    def open_rate(self) -> float:
        return round(self.opened_links / self.links, 3) if self.links else 0.0


def shares_report(scope: Scope) -> list[SharedAsset]:
    """Per asset: links made, how many prospects opened, opens and downloads; most opened first.

    A customized document's link counts for its asset. Opens by a link's sender are never logged.
    """
    link_asset = func.coalesce(ShareLink.asset_id, GeneratedDocument.asset_id)
    links = select(ShareLink.id, link_asset.label("asset_id"), ShareLink.created_at, ShareLink.first_opened_at) \
        .outerjoin(GeneratedDocument, GeneratedDocument.id == ShareLink.document_id)
    if scope.team_id is not None:
        links = links.where(ShareLink.user_id.in_(select(User.id).where(User.team_id == scope.team_id)))
    link_rows = {r.id: r for r in db.session.execute(links) if r.asset_id is not None}
    allowed = set(db.session.scalars(select(Asset.id).where(_asset_filter(scope))))
    share_id = UsageEvent.context["share_id"].as_integer()
    in_range = db.session.execute(
        select(UsageEvent.kind, share_id, func.count())
        .where(UsageEvent.kind.in_(("share_open", "share_download")),
               UsageEvent.created_at >= scope.start, UsageEvent.created_at < scope.end)
        .group_by(UsageEvent.kind, share_id)).all()
    report: dict[int, SharedAsset] = {}
    titles = _titles(allowed & {r.asset_id for r in link_rows.values()})

    def item(asset_id: int) -> SharedAsset:
        return report.setdefault(asset_id, SharedAsset(asset_id, titles.get(asset_id, "")))

    for link in link_rows.values():
        if link.asset_id in allowed and scope.start <= link.created_at < scope.end:
            entry = item(link.asset_id)
            entry.links += 1
            entry.opened_links += link.first_opened_at is not None  # set by a prospect's first open
    for kind, link_id, n in in_range:
        link = link_rows.get(link_id)
        if link is None or link.asset_id not in allowed:
            continue
        entry = item(link.asset_id)
        if kind == "share_open":
            entry.opens += n
        else:
            entry.downloads += n
    return sorted(report.values(), key=lambda a: (-a.opens, -a.links, a.title))


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
    ratings, average = db.session.execute(_ratings_in(scope, func.count(), func.avg(Rating.stars))).one()
    return Overview(usage.total, searches, zero, active, all_reps, ratings,
                    round(float(average), 2) if average is not None else None,
                    sum(f.open_flags for f in open_flags(scope)))
