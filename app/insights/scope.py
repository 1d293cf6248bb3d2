"""Insights figures, each a recount of the usage log (and ratings and flags) over a Scope.

Definitions (app/usage.py holds them; the README's glossary says the same):
- a *use* is an event of kind view, download, copy, customize or share;
- an *active rep* has at least one event of any kind in the range;
- *ignored*: live, no use in the range, and at least usage.IGNORE_GRACE_DAYS old at its end (else *new*);
- *live* assets are published and not expired today;
- a scope is a half-open UTC range [start, end), optionally narrowed to assets tagged with a term
  (of any dimension), a stage or a kind, and to events of one team (managers always see only their own team).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, func, select

from app.extensions import db
from app.library.assets import live_clause, today
from app.models import Asset, AssetKind, Role, Stage, Team, Term, UsageEvent, User, asset_stage, asset_term
from app.usage import USE_KINDS
from app.usage import last_days as usage_window
from app.web import params

PERIODS = (7, 30, 90)
DEFAULT_DAYS = 30
MAX_RANGE_DAYS = 731


@dataclass(frozen=True)
class Scope:
    start: datetime
    end: datetime
    term_id: int | None = None
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
        return any(v is not None for v in (self.term_id, self.stage_id, self.kind))


def day_range(first: date, last: date, **filters) -> Scope:
    """The scope of whole UTC days from `first` to `last`, both included."""
    return Scope(datetime.combine(first, time()), datetime.combine(last + timedelta(days=1), time()), **filters)


def last_days(days: int, **filters) -> Scope:
    """The last `days` days, today included (`usage.last_days`, as the home page and search count)."""
    start, end = usage_window(days, today())
    return Scope(start, end, **filters)


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
    """Read the filter bar: `days` or `from`/`to`, `term` (or its older name `segment`), `stage`, `kind`, `team`.

    Malformed values fall back to defaults (an id beyond params.MAX_INT too: it must not reach the
    database); a manager's scope is always their own team.
    """
    def as_int(name):
        try:
            return params.int_arg(args, name)
        except params.ParameterError:
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
    term_id = as_int("term")
    return replace(scope, term_id=as_int("segment") if term_id is None else term_id, stage_id=as_int("stage"),
                   kind=kind if kind in {k.value for k in AssetKind} else None, team_id=team_id)


def range_notice(args) -> str:
    """Why the period asked for in `args` is not the one shown (a malformed or reversed range, days
    that are not a number in range), or "" when it is: the page then says what it shows instead."""
    given_from, given_to, given_days = args.get("from"), args.get("to"), args.get("days")
    if given_from or given_to:
        try:
            first, last = date.fromisoformat(given_from or ""), date.fromisoformat(given_to or "")
        except ValueError:
            return f"From and To must both be dates: showing the last {DEFAULT_DAYS} days instead."
        if first > last:
            return f"From is after To: showing the last {DEFAULT_DAYS} days instead."
        if (last - first).days > MAX_RANGE_DAYS:
            return f"At most {MAX_RANGE_DAYS} days at a time: showing the last {DEFAULT_DAYS} days instead."
        return ""
    if given_days:
        try:
            days = params.int_arg(args, "days")  # bounded: a 5,000-digit value is refused, not converted
        except params.ParameterError:
            days = None
        if days is None or not 0 < days <= MAX_RANGE_DAYS:
            return f"Period must be 1 to {MAX_RANGE_DAYS} days: showing the last {DEFAULT_DAYS} days instead."
    return ""


def scope_names(scope: Scope) -> list[str]:
    """Names of the term, stage, kind and team a scope is narrowed to."""
    names = []
    if scope.term_id is not None:
        names.append(getattr(db.session.get(Term, scope.term_id), "name", "unknown term"))
    if scope.stage_id is not None:
        names.append(getattr(db.session.get(Stage, scope.stage_id), "name", "unknown stage"))
    if scope.kind is not None:
        names.append(AssetKind(scope.kind).label)
    if scope.team_id is not None:
        names.append(getattr(db.session.get(Team, scope.team_id), "name", "no team"))
    return names


def folded(text: str) -> str:
    """Text with case and spacing folded: how queries and deal accounts are grouped."""
    return " ".join(text.casefold().split())


# --- building blocks -------------------------------------------------------------------------

def asset_filter(scope: Scope, *, live: bool = False):
    """Conditions on Asset for the scope's term, stage and kind (and liveness)."""
    conditions = [live_clause()] if live else []
    if scope.term_id is not None:
        conditions.append(Asset.id.in_(select(asset_term.c.asset_id).where(asset_term.c.term_id == scope.term_id)))
    if scope.stage_id is not None:
        conditions.append(Asset.id.in_(select(asset_stage.c.asset_id).where(
            asset_stage.c.stage_id == scope.stage_id)))
    if scope.kind is not None:
        conditions.append(Asset.kind == scope.kind)
    return and_(True, *conditions)


def event_filter(scope: Scope, kinds=USE_KINDS, event=UsageEvent, in_range: bool = True):
    conditions = [event.kind.in_(kinds)]
    if in_range:
        conditions += [event.created_at >= scope.start, event.created_at < scope.end]
    if scope.team_id is not None:
        conditions.append(event.team_id == scope.team_id)
    if scope.narrows_assets:
        conditions.append(event.asset_id.in_(select(Asset.id).where(asset_filter(scope))))
    return and_(*conditions)


def uses_by_asset(scope: Scope) -> dict[int, int]:
    query = (select(UsageEvent.asset_id, func.count()).where(event_filter(scope))
             .group_by(UsageEvent.asset_id))
    return dict(db.session.execute(query).all())


def owner_names(owner_ids) -> dict[int, str]:
    ids = {i for i in owner_ids if i}
    return dict(db.session.execute(select(User.id, User.name).where(User.id.in_(ids))).all()) if ids else {}


def titles_of(asset_ids) -> dict[int, str]:
    ids = list(asset_ids)
    return dict(db.session.execute(select(Asset.id, Asset.title).where(Asset.id.in_(ids))).all()) if ids else {}
