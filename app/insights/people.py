"""Adoption: which reps use Bridge, how much, by rep and by team."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, exists, func, select

from app import rollups
from app.extensions import db
from app.insights.scope import Scope, event_filter
from app.models import EventDay, Role, Team, UsageEvent, User
from app.usage import USE_KINDS

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
    if rollups.daily(scope.start, scope.end):
        last_active, uses, searches, ever = _from_summary(scope, ids)
    else:
        last_active, uses, searches, ever = _from_log(scope, ids)
    if scope.narrows_assets:  # uses of some assets only: the summary does not know which
        uses = _from_log(scope, ids)[1]
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


def _from_summary(scope: Scope, ids: list[int]) -> tuple[dict, dict, dict, set]:
    """Last event, uses (of the scope's team) and searches per rep, and who has any event ever, from `event_day`."""
    first, last = rollups.day_span(scope.start, scope.end)
    use = EventDay.kind.in_(USE_KINDS)
    if scope.team_id is not None:
        use = and_(use, EventDay.team_id == scope.team_id)
    rows = db.session.execute(
        select(EventDay.user_id, func.max(EventDay.last_at), func.sum(case((use, EventDay.events), else_=0)),
               func.sum(case((EventDay.kind == "search", EventDay.events), else_=0)))
        .where(EventDay.user_id.in_(ids), EventDay.day >= first, EventDay.day <= last)
        .group_by(EventDay.user_id)).all()
    ever = set(db.session.scalars(select(User.id).where(User.id.in_(ids), exists().where(EventDay.user_id == User.id))))
    return ({r[0]: r[1] for r in rows}, {r[0]: int(r[2]) for r in rows if r[2]},
            {r[0]: int(r[3]) for r in rows if r[3]}, ever)


def _from_log(scope: Scope, ids: list[int]) -> tuple[dict, dict, dict, set]:
    """The same from the event log (a range that is not whole days; a scope narrowed to some assets)."""
    in_range = and_(UsageEvent.user_id.in_(ids), UsageEvent.created_at >= scope.start,
                    UsageEvent.created_at < scope.end)
    last_active = dict(db.session.execute(
        select(UsageEvent.user_id, func.max(UsageEvent.created_at)).where(in_range)
        .group_by(UsageEvent.user_id)).all())
    uses = dict(db.session.execute(
        select(UsageEvent.user_id, func.count()).where(in_range, event_filter(scope, in_range=False))
        .group_by(UsageEvent.user_id)).all())
    searches = dict(db.session.execute(
        select(UsageEvent.user_id, func.count()).where(in_range, UsageEvent.kind == "search")
        .group_by(UsageEvent.user_id)).all())
    ever = set(db.session.scalars(select(UsageEvent.user_id).where(UsageEvent.user_id.in_(ids)).distinct()))
    return last_active, uses, searches, ever
