"""Star ratings: one per user and asset, editable; summaries for pages and ranking."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from app.database import transaction
from app.extensions import db
from app.models import Rating

OUTCOMES = ("", "open", "won", "lost")


class RatingError(ValueError):
    """A user-facing reason why a rating was refused."""


@dataclass(frozen=True)
class RatingSummary:
    average: float
    count: int


def rate(user, asset, stars: int, comment: str = "", account: str = "", outcome: str = "") -> Rating:
    """Create or replace `user`'s rating of `asset`."""
    if not 1 <= int(stars) <= 5:
        raise RatingError("Choose between 1 and 5 stars.")
    if outcome not in OUTCOMES:
        raise RatingError(f"Unknown deal outcome {outcome!r}.")
    with transaction():
        rating = db.session.scalar(
            select(Rating).where(Rating.user_id == user.id, Rating.asset_id == asset.id)
        ) or Rating(user_id=user.id, asset_id=asset.id)
        rating.stars, rating.comment = int(stars), comment.strip()
        rating.account, rating.outcome = account.strip()[:120], outcome
        db.session.add(rating)
    return rating


def summaries(asset_ids: list[int]) -> dict[int, RatingSummary]:
    """Average stars and count per asset, for the assets that have ratings."""
    if not asset_ids:
        return {}
    rows = db.session.execute(
        select(Rating.asset_id, func.avg(Rating.stars), func.count())
        .where(Rating.asset_id.in_(asset_ids)).group_by(Rating.asset_id)
    )
    return {asset_id: RatingSummary(round(float(avg), 2), n) for asset_id, avg, n in rows}


def rating_of(user, asset) -> Rating | None:
    return db.session.scalar(select(Rating).where(Rating.user_id == user.id, Rating.asset_id == asset.id))


def recent_comments(asset, limit: int = 5) -> list[Rating]:
    """The latest ratings that came with a comment."""
    return list(db.session.scalars(
        select(Rating).where(Rating.asset_id == asset.id, Rating.comment != "")
        .order_by(Rating.updated_at.desc()).limit(limit)))
