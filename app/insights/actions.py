"""The weekly review's "Actions" page: what to do after the meeting, each list with the reason it is
empty when it is. Assets to archive, gaps to fill, flags open more than a week, reviews overdue."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.insights import content, searches
from app.insights.scope import Scope, asset_filter
from app.library import reviews
from app.models import Asset, Flag

ARCHIVE_AFTER_DAYS = 90  # unused this long (and older than that): suggested for archiving
FLAG_WAIT_DAYS = 7
LIMIT = 15


@dataclass
class Action:
    title: str
    why_empty: str  # one line said instead of an empty table
    columns: list[str]
    rows: list[list]


def actions(scope: Scope, counter: searches.GapCounter | None = None) -> list[Action]:
    """What the review of `scope` (a week) suggests doing, judged at the scope's end."""
    return [to_archive(scope), gaps_to_fill(scope, counter), old_flags(scope), overdue_reviews(scope)]


def to_archive(scope: Scope) -> Action:
    quiet = replace(scope, start=scope.end - timedelta(days=ARCHIVE_AFTER_DAYS))
    unused = content.ignored(quiet)
    old = [i for i in [*unused.never_used, *unused.not_used]
           if i.created_at < scope.end - timedelta(days=ARCHIVE_AFTER_DAYS)]
    return Action("Assets to archive", f"No asset to archive: every live asset older than {ARCHIVE_AFTER_DAYS} days "
                  f"was used in the last {ARCHIVE_AFTER_DAYS} days.", ["Asset", "Owner", "Last used"],
                  [[i.title, i.owner, i.last_used_at or "never"] for i in old[:LIMIT]])


def gaps_to_fill(scope: Scope, counter: searches.GapCounter | None) -> Action:
    board = searches.gap_board(scope, counter, 100)
    unanswered = [g for g in board.open if g.zero_results and not g.results_now]
    return Action("Gaps to fill", "No gap to fill: every search this week that found nothing finds something now, "
                  "or was dismissed.", ["Query", "Searches that found nothing"],
                  [[g.query, g.zero_results] for g in unanswered[:LIMIT]])


def old_flags(scope: Scope) -> Action:
    cutoff = scope.end - timedelta(days=FLAG_WAIT_DAYS)
    flags = db.session.scalars(
        select(Flag).join(Asset, Asset.id == Flag.asset_id)
        .where(Flag.created_at < cutoff, or_(Flag.resolved_at.is_(None), Flag.resolved_at >= scope.end),
               asset_filter(scope))
        .options(selectinload(Flag.asset).selectinload(Asset.owner)).order_by(Flag.created_at).limit(LIMIT)).all()
    return Action(f"Flags open more than {FLAG_WAIT_DAYS} days", f"No flag has waited more than {FLAG_WAIT_DAYS} "
                  "days: owners answered every one within a week.", ["Asset", "Reason", "Days open", "Owner"],
                  [[f.asset.title, f.reason_label, _days(scope.end, f.created_at),
                    f.asset.owner.name if f.asset.owner else "—"] for f in flags])


def overdue_reviews(scope: Scope) -> Action:
    items = reviews.queue(reason="overdue", today=scope.last_day)
    return Action("Reviews overdue", "No review is overdue: every published asset was verified within its interval.",
                  ["Asset", "Owner", "Review was due"],
                  [[i.asset.title, i.asset.owner.name if i.asset.owner else "—", i.fresh.review_due]
                   for i in items[:LIMIT]])


def _days(end: datetime, since: datetime) -> int:
    return (end - since).days
