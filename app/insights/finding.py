"""Time to find: how long a rep takes from searching to using something (the README's glossary says the same).

Definitions (`usage.SESSION_GAP`, `usage.USE_KINDS`):
- a *working session* is one rep's events (of any kind) in the scope's range, in time order, with no
  gap longer than 30 minutes between two in a row; a session is cut at the range's edges;
- a session is *measured* when it holds a search; its *time to find* runs from its first search to
  the first use (a view, download, copy, customize or share of an asset) after that search in the same
  session; that use's asset is what was *found*. A measured session with no such use is *not found*;
- only reps' sessions count; a session's team is the team on its first search's event;
- a scope narrowed to a term, stage or kind counts only uses of such assets as finding (and a team
  scope only that team's events);
- per segment: the found sessions grouped by each term, of one dimension, of the asset found (an
  asset with two terms counts in both, one with none in none);
- the trend: per ISO week (Monday to Sunday) of the first search, over the weeks the range touches.
Medians (of the found sessions' times, in minutes) are `statistics.median`: for an even count, the
mean of the two middle values.
"""
from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, or_, select, union_all
from sqlalchemy.orm import aliased

from app import rollups
from app.extensions import db
from app.insights.scope import Scope, asset_filter
from app.library import taxonomy
from app.models import Asset, Role, Team, UsageEvent, User, WorkSession, asset_term

EPSILON = timedelta(microseconds=1)  # a session's last event is in it: its window ends just after


@dataclass
class Session:
    user_id: int
    team_id: int | None
    day: date  # of the first search
    minutes: float | None = None  # from the first search to the first use after it; None: not found
    asset_id: int | None = None  # the asset found


@dataclass
class FindingGroup:
    """Sessions of one rep, team, segment or week: measured, found, not found, median minutes to find."""

    name: str
    measured: int = 0
    not_found: int = 0
    minutes: list[float] = field(default_factory=list)

    @property
    def found(self) -> int:
        return len(self.minutes)

    @property
    def median(self) -> float | None:
        return round(statistics.median(self.minutes), 1) if self.minutes else None

    def count(self, not_found: int, minutes: list[float]) -> None:
        self.measured += not_found + len(minutes)
        self.not_found += not_found
        self.minutes += minutes


@dataclass
class TimeToFind:
    overall: FindingGroup
    reps: list[FindingGroup]
    teams: list[FindingGroup]
    segments: list[FindingGroup]  # found sessions only: a session that found nothing has no segment
    weeks: list[FindingGroup]  # named like 2026-W47, in time order
    dimension: str | None  # the dimension whose terms are the segments


def sessions(scope: Scope) -> list[Session]:
    """The range's measured sessions (those with a search) cut from the log, in the order of their reps and times."""
    return _from_log(scope, [(None, scope.start, scope.end)])


def _from_log(scope: Scope, windows: list[tuple[int | None, datetime, datetime]]) -> list[Session]:
    """Measured sessions cut from the reps' events in `windows`: (user id or None for everyone, from, until)."""
    spans = [and_(UsageEvent.created_at >= first, UsageEvent.created_at < until,
                  *([UsageEvent.user_id == user_id] if user_id is not None else []))
             for user_id, first, until in windows]
    if not spans:
        return []
    query = (select(UsageEvent.user_id, UsageEvent.created_at, UsageEvent.kind, UsageEvent.asset_id,
                    UsageEvent.team_id)
             .join(User, User.id == UsageEvent.user_id)
             .where(User.role == Role.REP.value, or_(*spans))
             .order_by(UsageEvent.user_id, UsageEvent.created_at, UsageEvent.id))
    if scope.team_id is not None:
        query = query.where(UsageEvent.team_id == scope.team_id)
    wanted = set(db.session.scalars(select(Asset.id).where(asset_filter(scope)))) if scope.narrows_assets else None
    return [Session(s["user_id"], s["team_id"], s["searched_at"].date(), rollups.minutes_to_find(s), s["asset_id"])
            for s in rollups.walk(db.session.execute(query), wanted) if s["searched_at"] is not None]


def _from_summary(scope: Scope) -> Iterable[tuple] | None:
    """The range's measured sessions as (rep, team, week label, minutes, asset found) rows: those wholly
    inside it from `work_session`, those its edges cut from the log; None when a team scope meets a
    session of two teams (only the log says which of its events are the team's)."""
    ws, before = WorkSession, aliased(WorkSession)
    reps = select(User.id).where(User.role == Role.REP.value)
    inside = [ws.user_id.in_(reps), ws.started_at >= scope.start, ws.started_at < scope.end]
    if scope.team_id is not None and db.session.scalar(select(ws.user_id).where(*inside, ws.mixed_teams).limit(1)):
        return None
    # The sessions the range's edges cut: one reaching past its end, and the last one begun before its
    # start if it reaches into the range (found through each rep's key, not by reading older sessions).
    last_before = (select(func.max(before.started_at)).where(before.user_id == User.id,
                                                             before.started_at < scope.start).scalar_subquery())
    edges = db.session.execute(union_all(
        select(ws.user_id, ws.started_at, ws.ended_at, ws.mixed_teams).where(*inside, ws.ended_at >= scope.end),
        select(ws.user_id, ws.started_at, ws.ended_at, ws.mixed_teams).select_from(User)
        .join(ws, and_(ws.user_id == User.id, ws.started_at == last_before))
        .where(User.role == Role.REP.value, ws.ended_at >= scope.start))).all()
    if scope.team_id is not None and any(row[3] for row in edges):
        return None
    cut = _from_log(scope, [(user_id, max(started_at, scope.start), min(ended_at + EPSILON, scope.end))
                            for user_id, started_at, ended_at, _ in edges])
    team = [ws.team_id == scope.team_id] if scope.team_id is not None else []
    # Plain numbers and labels, tens of thousands of rows: read as the driver's tuples (making a
    # SQLAlchemy row of each cost three times the query at 90 days, bench/README.md).
    result = db.session.connection().execute(
        select(ws.user_id, ws.team_id, ws.searched_week, ws.minutes, ws.asset_id)
        .where(*inside, ws.ended_at < scope.end, ws.searched_at.isnot(None), *team))
    try:
        kept = result.cursor.fetchall()
    finally:
        result.close()
    return kept + [(s.user_id, s.team_id, week_label(s.day), s.minutes, s.asset_id) for s in cut]


def week_label(day) -> str:
    return "{}-W{:02d}".format(*day.isocalendar()[:2])


def time_to_find(scope: Scope, dimension_id: int | None = None) -> TimeToFind:
    """Time to find over a scope: overall, per rep, team, segment (terms of one dimension) and week.

    The sessions come from `work_session` (kept by the event writer) for a whole-day range no asset
    filter narrows, else from the log."""
    rows = _from_summary(scope) if rollups.daily(scope.start, scope.end) and not scope.narrows_assets else None
    if rows is None:
        rows = [(s.user_id, s.team_id, week_label(s.day), s.minutes, s.asset_id) for s in sessions(scope)]
    return _tally(scope, rows, taxonomy.dimension_or_first(dimension_id))


def _tally(scope: Scope, rows: Iterable[tuple], dimension) -> TimeToFind:
    """Groups of (rep, team, week label, minutes or None, asset found) session rows."""
    by_key: dict[tuple, list] = {}  # (rep, team, week): [not found, minutes of the found]
    by_asset: dict[int, list[float]] = defaultdict(list)
    for user_id, team_id, week, minutes, asset_id in rows:
        if (entry := by_key.get((user_id, team_id, week))) is None:
            entry = by_key[(user_id, team_id, week)] = [0, []]
        if minutes is None:
            entry[0] += 1
        else:
            entry[1].append(minutes)
            by_asset[asset_id].append(minutes)
    rep_ids = {key[0] for key in by_key}
    names = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(rep_ids))).all()) if rep_ids else {}
    teams = dict(db.session.execute(select(Team.id, Team.name)).all())
    overall = FindingGroup("Everyone")
    by_rep: dict[int, FindingGroup] = {}
    by_team: dict[str, FindingGroup] = {}
    weeks: dict[str, FindingGroup] = {}
    day = rollups.week_of(scope.first_day)
    while day <= scope.last_day:
        weeks[week_label(day)] = FindingGroup(week_label(day))
        day += timedelta(weeks=1)
    for (user_id, team_id, week), (not_found, minutes) in by_key.items():
        team = teams.get(team_id, "No team")
        rep = by_rep.get(user_id) or by_rep.setdefault(user_id, FindingGroup(names.get(user_id, "(deleted)")))
        for group in (overall, rep, by_team.get(team) or by_team.setdefault(team, FindingGroup(team)), weeks[week]):
            group.count(not_found, minutes)
    return TimeToFind(overall, _ranked(by_rep.values()), _ranked(by_team.values()),
                      _segments(by_asset, dimension), list(weeks.values()), dimension.name if dimension else None)


def _segments(by_asset: dict[int, list[float]], dimension) -> list[FindingGroup]:
    """Found sessions by the terms (of `dimension`) of the asset found, in the dimension's order."""
    if dimension is None:
        return []
    groups = {t.id: FindingGroup(t.name) for t in dimension.terms}
    if by_asset:  # the dimension's tags, read whole: cheaper than naming thousands of found assets
        result = db.session.connection().execute(select(asset_term.c.asset_id, asset_term.c.term_id).where(
            asset_term.c.term_id.in_(list(groups))))
        try:
            tags = result.cursor.fetchall()
        finally:
            result.close()
        for asset_id, term_id in tags:
            if asset_id in by_asset:
                groups[term_id].count(0, by_asset[asset_id])
    return [g for g in groups.values() if g.measured]


def _ranked(groups) -> list[FindingGroup]:
    """Slowest median first (where finding takes longest), then by name; groups that found nothing last."""
    return sorted(groups, key=lambda g: (g.median is None, -(g.median or 0), g.name))
