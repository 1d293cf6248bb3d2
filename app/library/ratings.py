"""Star ratings: one per user and asset, editable; summaries for pages and ranking."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app import usage
from app.database import transaction, upsert
from app.extensions import db
from app.models import Rating, UsageEvent, utcnow

OUTCOMES = ("", "open", "won", "lost")


class RatingError(ValueError):
    """A user-facing reason why a rating was refused."""


@dataclass(frozen=True)
class RatingSummary:
    average: float
    count: int


def rate(user, asset, stars: int, comment: str = "", account: str = "", outcome: str = "", *,
         at: datetime | None = None, opportunity=None) -> Rating:
    """Create or replace `user`'s rating of `asset`, and log it (with the deal `opportunity`, one of the
    user's open deals, when given: its account names the rating's). One upsert, so a double submit
    cannot collide with itself. `at` backdates it (the demo's history)."""
    if not 1 <= int(stars) <= 5:
        raise RatingError("Choose between 1 and 5 stars.")
    if outcome not in OUTCOMES:
        raise RatingError(f"Unknown deal outcome {outcome!r}.")
    when = at or utcnow()
    account = account or (opportunity.account.name if opportunity else "")
    values = {"user_id": user.id, "asset_id": asset.id, "stars": int(stars), "comment": comment.strip(),
              "account": account.strip()[:120], "outcome": outcome, "created_at": when, "updated_at": when}
    replaced = {k: v for k, v in values.items() if k not in ("user_id", "asset_id", "created_at")}
    with transaction():
        db.session.execute(upsert(Rating, values, ["user_id", "asset_id"], replaced))
    rating = db.session.scalar(select(Rating).where(Rating.user_id == user.id, Rating.asset_id == asset.id)
                               .execution_options(populate_existing=True))
    # What this submit said, whichever of two won.
    usage.log_event("rate", user=user, asset=asset, at=at, stars=values["stars"], outcome=outcome or None,
                    account=values["account"] or None, opportunity=opportunity)
    return rating


def rated_for_deal(user, asset) -> int | None:
    """The deal `user`'s latest rating of `asset` was given for (its "rate" event names it), if any:
    the rating form shows it chosen again, so updating the rating does not drop the deal."""
    return db.session.scalar(select(UsageEvent.opportunity_id).where(
        UsageEvent.kind == "rate", UsageEvent.user_id == user.id, UsageEvent.asset_id == asset.id)
        .order_by(UsageEvent.created_at.desc(), UsageEvent.id.desc()).limit(1))


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
        .options(joinedload(Rating.user)).order_by(Rating.updated_at.desc()).limit(limit)))
