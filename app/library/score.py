"""The content score: one number from 0 to 100 saying how much an asset earns its place.

    score = Σ weight × component, each component between 0 and 1, the weights summing to 100:

    use         35  uses (view, download, copy, customize, share) in the last SCORE_DAYS (90) days,
                    log-scaled: 0 uses → 0, USES_FOR_FULL or more → 1
    rating      25  average stars pulled towards 3 by RATING_PRIOR imaginary 3-star ratings,
                    mapped 1★ → 0, 5★ → 1 (no rating: 0.5, neither good nor bad)
    engagement  20  prospect opens of its share links in the last SCORE_DAYS days, log-scaled:
                    OPENS_FOR_FULL or more → 1
    freshness   20  fresh 1, review due soon 0.75, expiring soon 0.5, needs review 0.25,
                    expired 0; an open "wrong" or "outdated" flag makes it 0
    deals        0  deal influence: weighs nothing until deals are recorded (the room is kept)

The README's glossary says the same. Lives in the library (not insights) so that Manage content,
a library page, can sort by it; insights read it from here.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from app import usage
from app.extensions import db
from app.library import assets
from app.library.freshness import WARNING_FLAGS, State, state_of
from app.models import Asset, Flag, Rating, UsageEvent, utcnow

SCORE_DAYS = 90
USES_FOR_FULL = 40
OPENS_FOR_FULL = 20
RATING_PRIOR = 2  # imaginary 3-star ratings: one 5-star rating is not a perfect asset
WEIGHTS = {"use": 35, "rating": 25, "engagement": 20, "freshness": 20, "deals": 0}
LABELS = {"use": "Use", "rating": "Ratings", "engagement": "Buyer engagement", "freshness": "Freshness",
          "deals": "Deal influence"}
FRESHNESS_VALUES = {State.FRESH: 1.0, State.DUE_SOON: 0.75, State.EXPIRING_SOON: 0.5, State.NEEDS_REVIEW: 0.25,
                    State.EXPIRED: 0.0}


@dataclass(frozen=True)
class Component:
    key: str
    value: float  # 0 to 1
    detail: str  # what it was computed from, in words

    @property
    def label(self) -> str:
        return LABELS[self.key]

    @property
    def weight(self) -> int:
        return WEIGHTS[self.key]

    @property
    def points(self) -> float:
        return round(self.weight * self.value, 1)


@dataclass(frozen=True)
class Score:
    asset_id: int
    components: tuple[Component, ...]

    @property
    def total(self) -> int:
        return round(sum(c.weight * c.value for c in self.components))


def _log_share(count: int, full: int) -> float:
    return min(1.0, math.log1p(count) / math.log1p(full))


def use_value(uses: int) -> float:
    return _log_share(uses, USES_FOR_FULL)


def engagement_value(opens: int) -> float:
    return _log_share(opens, OPENS_FOR_FULL)


def rating_value(stars_sum: int, count: int) -> float:
    average = (stars_sum + 3 * RATING_PRIOR) / (count + RATING_PRIOR)
    return (average - 1) / 4


def freshness_value(state: State, flagged: bool) -> float:
    return 0.0 if flagged else FRESHNESS_VALUES[state]


def scores(asset_ids=None, today: date | None = None) -> dict[int, Score]:
    """The score of each asset (of every asset when `asset_ids` is None) on `today`: four grouped
    queries, whatever the number of assets."""
    day = today or utcnow().date()
    since, until = usage.last_days(SCORE_DAYS, day)
    in_window = (UsageEvent.created_at >= since, UsageEvent.created_at < until)
    only = None if asset_ids is None else list(asset_ids)

    def narrowed(query, column):
        return query if only is None else query.where(column.in_(only))

    rows = db.session.execute(narrowed(select(Asset.id, Asset.verified_at, Asset.review_interval_days,
                                              Asset.expires_on, Asset.refresh_requested_at), Asset.id)).all()
    events = dict(db.session.execute(narrowed(
        select(UsageEvent.asset_id, func.count()).where(UsageEvent.kind.in_(usage.USE_KINDS), *in_window)
        .group_by(UsageEvent.asset_id), UsageEvent.asset_id)).all())
    opens = dict(db.session.execute(narrowed(
        select(UsageEvent.asset_id, func.count()).where(UsageEvent.kind == "share_open", *in_window)
        .group_by(UsageEvent.asset_id), UsageEvent.asset_id)).all())
    rated = {i: (int(total), n) for i, total, n in db.session.execute(narrowed(
        select(Rating.asset_id, func.sum(Rating.stars), func.count()).group_by(Rating.asset_id), Rating.asset_id))}
    flagged = set(db.session.scalars(narrowed(select(Flag.asset_id).where(
        Flag.resolved_at.is_(None), Flag.reason.in_(WARNING_FLAGS)), Flag.asset_id)))
    found = {}
    for asset_id, verified_at, interval, expires_on, refresh in rows:
        uses, seen = events.get(asset_id, 0), opens.get(asset_id, 0)
        stars, count = rated.get(asset_id, (0, 0))
        state = state_of(verified_at, interval, expires_on, day, refresh)
        found[asset_id] = Score(asset_id, (
            Component("use", use_value(uses), f"{uses} use{'' if uses == 1 else 's'} in {SCORE_DAYS} days"),
            Component("rating", rating_value(stars, count),
                      f"★ {stars / count:.1f} from {count} rating{'' if count == 1 else 's'}" if count
                      else "not rated yet"),
            Component("engagement", engagement_value(seen),
                      f"{seen} prospect open{'' if seen == 1 else 's'} in {SCORE_DAYS} days"),
            Component("freshness", freshness_value(state, asset_id in flagged),
                      "flagged as wrong or outdated" if asset_id in flagged else state.label.lower()),
            Component("deals", 0.0, "no deals recorded yet"),
        ))
    return found


MANAGE_SORTS = {"updated": "Last updated", "score": "Score, highest first", "score_low": "Score, lowest first"}


@dataclass
class ScoredPage:
    page: object  # assets.Page of Asset rows
    scores: dict[int, Score]
    sort: str


def manage_page(user, *, sort: str = "updated", page: int = 1, per_page: int = 24, **facets) -> ScoredPage:
    """Manage content's list: newest change first, or by score (every matching asset is scored,
    then the page is cut); each listed asset's score with its components."""
    sort = sort if sort in MANAGE_SORTS else "updated"
    if sort == "updated":
        listed = assets.browse(user, page=page, per_page=per_page, **facets)
        return ScoredPage(listed, scores([a.id for a in listed.items]), sort)
    ids = list(db.session.scalars(assets.filtered(user, **facets).with_only_columns(Asset.id)))
    found = scores(ids)
    order = sorted(ids, key=lambda i: ((-1 if sort == "score" else 1) * found[i].total, i))
    page = max(1, page)
    chosen = order[(page - 1) * per_page:page * per_page]
    items = assets.load_cards(chosen)
    return ScoredPage(assets.Page(items, len(ids), page, per_page), found, sort)
