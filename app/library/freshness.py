"""Whether an asset can be trusted today: checked within its review interval, and not about to expire.

States are computed from the asset's dates and `today`, never stored: a stored state would need a
clock job to turn fresh content stale, and would be wrong whenever that job had not run yet. Tests
pass `today` (a frozen clock); the app passes nothing and gets the UTC day.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, update

from app import usage
from app.database import transaction
from app.extensions import db
from app.models import CONTENT_WRITERS, Asset, AssetKind, Flag, utcnow

# How often an asset of each kind should be checked, in days: battlecards follow competitors'
# releases and prices, so monthly; case studies and brochures tell stories that age slowly.
DEFAULT_INTERVAL = 90
REVIEW_INTERVAL_DAYS = {
    AssetKind.BATTLECARD.value: 30,
    AssetKind.CASE_STUDY.value: 180,
    AssetKind.BROCHURE.value: 180,
    AssetKind.VIDEO_LINK.value: 180,
}
DUE_SOON_DAYS = 14  # "due soon" this many days before the review falls due
EXPIRING_SOON_DAYS = 30  # "expiring soon" this many days before expires_on
MIN_INTERVAL, MAX_INTERVAL = 7, 730


class State(str, enum.Enum):
    """Freshness states, most urgent first (an asset shows the most urgent one that applies)."""

    EXPIRED = "expired"
    NEEDS_REVIEW = "needs_review"
    EXPIRING_SOON = "expiring_soon"
    DUE_SOON = "due_soon"
    FRESH = "fresh"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]

    @property
    def warns(self) -> bool:
        """Whether a rep should be warned before using the asset."""
        return self in (State.EXPIRED, State.NEEDS_REVIEW, State.EXPIRING_SOON)


class FreshnessError(ValueError):
    """A user-facing reason why a verification was refused."""


STATE_LABELS = {
    State.EXPIRED: "Expired",
    State.NEEDS_REVIEW: "Needs review",
    State.EXPIRING_SOON: "Expiring soon",
    State.DUE_SOON: "Review due soon",
    State.FRESH: "Fresh",
}


@dataclass(frozen=True)
class Freshness:
    """An asset's state on one day, with the dates that explain it."""

    state: State
    review_due: date
    expires_on: date | None
    verified_at: datetime
    verified_by: str  # the verifier's name; empty when nobody has verified it yet

    @property
    def label(self) -> str:
        return self.state.label

    @property
    def checked(self) -> str:
        """"Verified by Mara Quinn, 12 Nov" (or "Last checked 12 Nov" when nobody verified it)."""
        day = f"{self.verified_at.day} {self.verified_at:%b}"
        return f"Verified by {self.verified_by}, {day}" if self.verified_by else f"Last checked {day}"


def default_interval(kind: str) -> int:
    """The review interval, in days, an asset of `kind` gets unless its author sets one."""
    return REVIEW_INTERVAL_DAYS.get(kind, DEFAULT_INTERVAL)


def review_due_on(asset: Asset) -> date:
    return due_date(asset.verified_at, asset.review_interval_days, asset.refresh_requested_at)


def due_date(verified_at: datetime, interval_days: int, refresh_requested_at: datetime | None = None) -> date:
    """When the review falls due: an interval after the last check, or (marked for refresh since that
    check) the day before the request, so it needs review at once."""
    due = verified_at.date() + timedelta(days=interval_days)
    if refresh_requested_at is not None and refresh_requested_at >= verified_at:
        due = min(due, refresh_requested_at.date() - timedelta(days=1))
    return due


def state_on(asset: Asset, day: date) -> State:
    """The most urgent state that applies to `asset` on `day`."""
    return state_of(asset.verified_at, asset.review_interval_days, asset.expires_on, day, asset.refresh_requested_at)


def state_of(verified_at: datetime, interval_days: int, expires_on: date | None, day: date,
             refresh_requested_at: datetime | None = None) -> State:
    """The most urgent state of an asset checked at `verified_at`, on `day` (`state_on` from its columns)."""
    if expires_on is not None and expires_on < day:
        return State.EXPIRED
    due = due_date(verified_at, interval_days, refresh_requested_at)
    if due < day:
        return State.NEEDS_REVIEW
    if expires_on is not None and expires_on <= day + timedelta(days=EXPIRING_SOON_DAYS):
        return State.EXPIRING_SOON
    if due <= day + timedelta(days=DUE_SOON_DAYS):
        return State.DUE_SOON
    return State.FRESH


# What search may filter by: the badge a card shows (flagged: an open "wrong" or "outdated" flag,
# the warning reps see). Fresh: no warning at all; "review due soon" is still fresh to a rep.
FILTERS = {"fresh": "Fresh", "needs_review": "Needs review", "expiring": "Expiring or expired",
           "flagged": "Flagged"}
_FILTER_STATES = {"fresh": (State.FRESH, State.DUE_SOON), "needs_review": (State.NEEDS_REVIEW,),
                  "expiring": (State.EXPIRING_SOON, State.EXPIRED)}
WARNING_FLAGS = ("wrong", "outdated")  # flags reps are warned of (app/library/flags.py)


def assets_in(filters, today: date | None = None) -> frozenset[int]:
    """Ids of assets in any of the `filters` (keys of FILTERS) on `today`, whatever their status (search
    checks who may see what). States are computed from four narrow columns, as on the badges."""
    day = today or utcnow().date()
    chosen = [f for f in filters if f in FILTERS]
    flagged = set(db.session.scalars(select(Flag.asset_id).where(
        Flag.resolved_at.is_(None), Flag.reason.in_(WARNING_FLAGS)))) if chosen else set()
    found = set(flagged) if "flagged" in chosen else set()
    wanted = {state: key for key in chosen for state in _FILTER_STATES.get(key, ())}
    if wanted:
        rows = db.session.execute(select(Asset.id, Asset.verified_at, Asset.review_interval_days, Asset.expires_on,
                                         Asset.refresh_requested_at))
        for asset_id, verified, interval, expires, refresh in rows:
            key = wanted.get(state_of(verified, interval, expires, day, refresh))
            if key is not None and not (key == "fresh" and asset_id in flagged):  # flagged is not fresh
                found.add(asset_id)
    return frozenset(found)


def freshness(asset: Asset, today: date | None = None) -> Freshness:
    """The asset's freshness on `today` (the app's today when not given)."""
    day = today or utcnow().date()
    return Freshness(state=state_on(asset, day), review_due=review_due_on(asset), expires_on=asset.expires_on,
                     verified_at=asset.verified_at,
                     verified_by=asset.verified_by.name if asset.verified_by is not None else "")


def may_verify(user, asset: Asset) -> bool:
    """Its owner verifies an asset; so may any marketer or admin (an owner who left, a shared load)."""
    return user.is_authenticated and (asset.owner_id == user.id or user.has_role(*CONTENT_WRITERS))


def verify(user, items: list[Asset], *, at: datetime | None = None) -> int:
    """Record that `user` checked `items` and found them right: their review clock restarts.

    All or nothing: refused whole if `user` may not verify one of them. The content did not change,
    so `updated_at` stays (the home page's "recently updated" is about content, not checks)."""
    if not items:
        raise FreshnessError("Choose at least one asset to verify.")
    refused = [a.title for a in items if not may_verify(user, a)]
    if refused:
        raise FreshnessError(f"Only an asset's owner or a marketer may verify “{refused[0]}”.")
    when = at or utcnow()
    with transaction():
        db.session.execute(update(Asset).where(Asset.id.in_([a.id for a in items]))
                           .values(verified_at=when, verified_by_id=user.id, refresh_requested_at=None,
                                   updated_at=Asset.updated_at)
                           .execution_options(synchronize_session="fetch"))
    for asset in items:
        usage.log_event("verify", user=user, asset=asset, at=at)
    return len(items)
