"""What reps say about assets: ratings and open flags (win rates: app/insights/influence.py)."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, or_, select

from app.extensions import db
from app.insights.scope import Scope, asset_filter, owner_names, titles_of
from app.models import Asset, Flag, Rating, User

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


def ratings_in(scope: Scope, *columns):
    """Ratings given or changed in the range, on the scope's assets, by the scope's team."""
    query = (select(*(columns or (Rating,))).join(Asset, Asset.id == Rating.asset_id)
             .where(Rating.updated_at >= scope.start, Rating.updated_at < scope.end, asset_filter(scope)))
    if scope.team_id is not None:
        query = query.where(Rating.user_id.in_(select(User.id).where(User.team_id == scope.team_id)))
    return query


def ratings_report(scope: Scope, limit: int = 10) -> RatingsReport:
    """Ratings given in the range: stars distribution, lowest rated assets with comments; open flags."""
    rated = list(db.session.scalars(ratings_in(scope)))
    distribution = {stars: 0 for stars in range(1, 6)}
    per_asset: dict[int, list[Rating]] = defaultdict(list)
    for rating in rated:
        distribution[rating.stars] += 1
        per_asset[rating.asset_id].append(rating)
    titles = titles_of(per_asset)
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
             .where(Flag.resolved_at.is_(None), asset_filter(scope)).order_by(Flag.created_at))
    if scope.team_id is not None:
        query = query.where(Flag.user_id.in_(select(User.id).where(User.team_id == scope.team_id)))
    rows = db.session.execute(query).all()
    owners = owner_names(r.owner_id for r in rows)
    flagged: dict[int, FlaggedAsset] = {}
    for r in rows:
        item = flagged.setdefault(r.asset_id, FlaggedAsset(r.asset_id, r.title, owners.get(r.owner_id, "—"), 0, []))
        item.open_flags += 1
        if r.reason not in item.reasons:
            item.reasons.append(r.reason)
    return sorted(flagged.values(), key=lambda f: (-f.open_flags, f.title))


def flags_open_at(scope: Scope) -> int:
    """*Open flags* of a scope: raised before its end and not resolved by then (for a range ending
    today: every unresolved flag, as "Assets with open flags" lists them; for a past week: what was
    open when it ended, so weeks compare)."""
    query = (select(func.count()).select_from(Flag).join(Asset, Asset.id == Flag.asset_id)
             .where(Flag.created_at < scope.end, or_(Flag.resolved_at.is_(None), Flag.resolved_at >= scope.end),
                    asset_filter(scope)))
    if scope.team_id is not None:
        query = query.where(Flag.user_id.in_(select(User.id).where(User.team_id == scope.team_id)))
    return db.session.scalar(query)

