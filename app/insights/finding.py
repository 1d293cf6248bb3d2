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
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import groupby

from sqlalchemy import select

from app.extensions import db
from app.insights.scope import Scope, asset_filter
from app.library import taxonomy
from app.models import Asset, Role, Team, UsageEvent, User, asset_term
from app.usage import SESSION_GAP, USE_KINDS


@dataclass
class Session:
    user_id: int
    team_id: int | None
    searched_at: datetime
    found_at: datetime | None = None
    asset_id: int | None = None

    @property
    def minutes(self) -> float | None:
        return (self.found_at - self.searched_at).total_seconds() / 60 if self.found_at else None


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

    def add(self, session: Session) -> None:
        self.measured += 1
        if session.found_at is None:
            self.not_found += 1
        else:
            self.minutes.append(session.minutes)


@dataclass
class TimeToFind:
    overall: FindingGroup
    reps: list[FindingGroup]
    teams: list[FindingGroup]
    segments: list[FindingGroup]  # found sessions only: a session that found nothing has no segment
    weeks: list[FindingGroup]  # named like 2026-W47, in time order
    dimension: str | None  # the dimension whose terms are the segments


def sessions(scope: Scope) -> list[Session]:
    """The range's measured sessions (those with a search), in the order of their reps and times."""
    query = (select(UsageEvent.user_id, UsageEvent.created_at, UsageEvent.kind, UsageEvent.asset_id,
                    UsageEvent.team_id)
             .join(User, User.id == UsageEvent.user_id)
             .where(User.role == Role.REP.value, UsageEvent.created_at >= scope.start,
                    UsageEvent.created_at < scope.end)
             .order_by(UsageEvent.user_id, UsageEvent.created_at, UsageEvent.id))
    if scope.team_id is not None:
        query = query.where(UsageEvent.team_id == scope.team_id)
    wanted = set(db.session.scalars(select(Asset.id).where(asset_filter(scope)))) if scope.narrows_assets else None
    found: list[Session] = []
    for user_id, events in groupby(db.session.execute(query), key=lambda row: row.user_id):
        previous, current = None, None
        for _, at, kind, asset_id, team_id in events:
            if previous is None or at - previous > SESSION_GAP:
                current = None  # a new session: nothing to measure until it searches
            previous = at
            if current is None:
                if kind == "search":
                    current = Session(user_id, team_id, at)
                    found.append(current)
            elif (current.found_at is None and kind in USE_KINDS and asset_id is not None
                  and (wanted is None or asset_id in wanted)):
                current.found_at, current.asset_id = at, asset_id
    return found


def week_label(day) -> str:
    return "{}-W{:02d}".format(*day.isocalendar()[:2])


def time_to_find(scope: Scope, dimension_id: int | None = None) -> TimeToFind:
    """Time to find over a scope: overall, per rep, team, segment (terms of one dimension) and week."""
    measured = sessions(scope)
    dimension = taxonomy.dimension_or_first(dimension_id)
    names = dict(db.session.execute(select(User.id, User.name).where(
        User.id.in_({s.user_id for s in measured}))).all()) if measured else {}
    teams = dict(db.session.execute(select(Team.id, Team.name)).all())
    overall = FindingGroup("Everyone")
    by_rep: dict[int, FindingGroup] = {}
    by_team: dict[str, FindingGroup] = {}
    weeks: dict[str, FindingGroup] = {}
    day = scope.first_day - timedelta(days=scope.first_day.weekday())
    while day <= scope.last_day:
        weeks[week_label(day)] = FindingGroup(week_label(day))
        day += timedelta(weeks=1)
    for session in measured:
        overall.add(session)
        by_rep.setdefault(session.user_id, FindingGroup(names.get(session.user_id, "(deleted)"))).add(session)
        team = teams.get(session.team_id, "No team")
        by_team.setdefault(team, FindingGroup(team)).add(session)
        weeks[week_label(session.searched_at.date())].add(session)
    return TimeToFind(overall, _ranked(by_rep.values()), _ranked(by_team.values()),
                      _segments(measured, dimension), list(weeks.values()), dimension.name if dimension else None)


def _segments(measured: list[Session], dimension) -> list[FindingGroup]:
    """Found sessions by the terms (of `dimension`) of the asset found, in the dimension's order."""
    if dimension is None:
        return []
    found = [s for s in measured if s.asset_id is not None]
    terms_of: dict[int, list[int]] = defaultdict(list)
    for asset_id, term_id in db.session.execute(select(asset_term.c.asset_id, asset_term.c.term_id).where(
            asset_term.c.term_id.in_([t.id for t in dimension.terms]),
            asset_term.c.asset_id.in_({s.asset_id for s in found}))) if found else ():
        terms_of[asset_id].append(term_id)
    groups = {t.id: FindingGroup(t.name) for t in dimension.terms}
    for session in found:
        for term_id in terms_of.get(session.asset_id, ()):
            groups[term_id].add(session)
    return [g for g in groups.values() if g.measured]


def _ranked(groups) -> list[FindingGroup]:
    """Slowest median first (where finding takes longest), then by name; groups that found nothing last."""
    return sorted(groups, key=lambda g: (g.median is None, -(g.median or 0), g.name))
