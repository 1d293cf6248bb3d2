"""What reps say about assets: ratings, open flags, and win rates of deals they were used in."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select

from app.extensions import db
from app.insights.scope import Scope, asset_filter, folded, owner_names, titles_of
from app.models import Asset, Flag, Rating, User

INFLUENCE_MIN_DEALS = 5  # deals with and without the asset, each, before a win rate is shown


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
        ratings_in(scope, Rating.asset_id, Rating.account, Rating.outcome, Rating.updated_at)
        .where(Rating.account != "")).all()
    outcome: dict[str, tuple[datetime, str]] = {}
    used_in: dict[int, set[str]] = defaultdict(set)
    for asset_id, account, result, updated_at in rows:
        deal = folded(account)
        used_in[asset_id].add(deal)
        if result in ("won", "lost") and (deal not in outcome or updated_at >= outcome[deal][0]):
            outcome[deal] = (updated_at, result)
    closed = {deal: result for deal, (_, result) in outcome.items()}
    won_total = sum(1 for r in closed.values() if r == "won")
    titles = titles_of(used_in)
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
