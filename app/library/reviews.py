"""The review queue: published assets an owner should look at now (review overdue or due soon, an
open flag, expiring or expired), and the bulk actions that clear it, each all or nothing."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, false, or_, select, update
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import flag_modified

from app.database import transaction
from app.extensions import db
from app.library import freshness
from app.library.freshness import DUE_SOON_DAYS, EXPIRING_SOON_DAYS, Freshness, State
from app.models import CONTENT_WRITERS, Asset, AssetStatus, BulkChange, Flag, User, utcnow

REASONS = {"overdue": "Review overdue", "flagged": "Flagged", "expiring": "Expiring or expired",
           "due": "Review due soon"}
ACTIONS = {"verify": "Verify (still right)", "refresh": "Mark for refresh", "archive": "Archive",
           "reassign": "Reassign owner"}
# What each action changes: kept before it runs, so that Undo can put it back.
CHANGES = {"verify": ("verified_at", "verified_by_id", "refresh_requested_at"), "refresh": ("refresh_requested_at",),
           "archive": ("status", "updated_at"), "reassign": ("owner_id",)}
UNDO_HOURS = 24  # how long a bulk change may be undone
_VERBS = {"verify": ("Verify", "Verified"), "refresh": ("Mark for refresh", "Marked for refresh"),
          "archive": ("Archive", "Archived")}
# Most urgent first: expired (reps lost it), then flagged (reps were told it is wrong), overdue,
# expiring, due soon.
_URGENCY = {State.EXPIRED: 0, State.NEEDS_REVIEW: 2, State.EXPIRING_SOON: 3, State.DUE_SOON: 4, State.FRESH: 5}
_FLAGGED = 1


class ReviewError(ValueError):
    """A user-facing reason why a bulk action was refused (nothing was changed)."""


@dataclass
class ReviewItem:
    """One asset in the queue, with why it is there."""

    asset: Asset
    fresh: Freshness
    flags: list[Flag]  # open ones, oldest first
    reasons: list[str]  # keys of REASONS

    @property
    def urgency(self) -> tuple:
        rank = _URGENCY[self.fresh.state]
        return (min(rank, _FLAGGED) if self.flags else rank, self.fresh.review_due, self.asset.title.lower())


def _due_clause(day: date):
    """Assets whose review falls due within DUE_SOON_DAYS of `day` (or earlier): one range per
    distinct interval, as date arithmetic on a column is said differently by SQLite and PostgreSQL."""
    intervals = db.session.scalars(select(Asset.review_interval_days).distinct()
                                   .where(Asset.status == AssetStatus.PUBLISHED.value)).all()
    return or_(false(), *(and_(Asset.review_interval_days == days,
                             Asset.verified_at < datetime.combine(day + timedelta(days=DUE_SOON_DAYS - days + 1),
                                                                  time()))
                        for days in intervals))


def _reasons(fresh: Freshness, flags: list[Flag], day: date) -> list[str]:
    found = []
    if fresh.review_due < day:
        found.append("overdue")
    if flags:
        found.append("flagged")
    if fresh.expires_on is not None and fresh.expires_on <= day + timedelta(days=EXPIRING_SOON_DAYS):
        found.append("expiring")
    if day <= fresh.review_due <= day + timedelta(days=DUE_SOON_DAYS):
        found.append("due")
    return found


def queue(owner: User | None = None, reason: str = "", today: date | None = None) -> list[ReviewItem]:
    """Published assets needing a look on `today`, most urgent first; only `owner`'s when given,
    only those with `reason` (a key of REASONS) when given."""
    day = today or utcnow().date()
    open_flags = select(Flag.asset_id).where(Flag.resolved_at.is_(None))
    query = (select(Asset).where(Asset.status == AssetStatus.PUBLISHED.value)
             .where(or_(_due_clause(day), Asset.id.in_(open_flags),
                        Asset.expires_on <= day + timedelta(days=EXPIRING_SOON_DAYS),
                        Asset.refresh_requested_at >= Asset.verified_at))
             .options(selectinload(Asset.owner), selectinload(Asset.verified_by)))
    if owner is not None:
        query = query.where(Asset.owner_id == owner.id)
    candidates = list(db.session.scalars(query))
    flags_of: dict[int, list[Flag]] = {}
    for flag in db.session.scalars(select(Flag).where(Flag.resolved_at.is_(None),
                                                      Flag.asset_id.in_([a.id for a in candidates]))
                                   .order_by(Flag.created_at)):
        flags_of.setdefault(flag.asset_id, []).append(flag)
    items = []
    for asset in candidates:
        fresh = freshness.freshness(asset, day)
        item = ReviewItem(asset, fresh, flags_of.get(asset.id, []), [])
        item.reasons = _reasons(fresh, item.flags, day)
        if item.reasons and (not reason or reason in item.reasons):
            items.append(item)
    return sorted(items, key=lambda i: i.urgency)


def owners() -> list[User]:
    """The people an asset may be reassigned to: active marketers and admins."""
    return list(db.session.scalars(select(User).where(User.active.is_(True), User.role.in_(
        [r.value for r in CONTENT_WRITERS])).order_by(User.name)))


@dataclass
class Plan:
    """A bulk action checked and ready to confirm: what will happen to which assets."""

    action: str
    assets: list[Asset]
    new_owner: User | None = None

    @property
    def summary(self) -> str:
        count = f"{len(self.assets)} asset{'' if len(self.assets) == 1 else 's'}"
        if self.action == "reassign":
            return f"Give {count} to {self.new_owner.name}"
        return f"{_VERBS[self.action][0]} {count}"

    @property
    def done(self) -> str:
        count = f"{len(self.assets)} asset{'' if len(self.assets) == 1 else 's'}"
        if self.action == "reassign":
            return f"{self.new_owner.name} now owns {count}."
        return f"{_VERBS[self.action][1]} {count}."


def plan(user, action: str, asset_ids: list[int], new_owner_id: int | None = None) -> Plan:
    """Check a bulk action before anything changes; raises ReviewError with the reason it cannot run."""
    if action not in ACTIONS:
        raise ReviewError("Choose what to do with the selected assets.")
    if not user.has_role(*CONTENT_WRITERS):
        raise ReviewError("Only marketers and admins change assets in bulk.")
    ids = list(dict.fromkeys(asset_ids))
    if not ids:
        raise ReviewError("Select at least one asset.")
    found = {a.id: a for a in db.session.scalars(select(Asset).where(Asset.id.in_(ids)))}
    if len(found) != len(ids):
        raise ReviewError("Some of the selected assets no longer exist: reload the queue and select again.")
    new_owner = None
    if action == "reassign":
        new_owner = db.session.get(User, new_owner_id) if new_owner_id else None
        if new_owner is None or new_owner not in owners():
            raise ReviewError("Choose an active marketer or admin as the new owner.")
    return Plan(action, [found[i] for i in ids], new_owner)


def carry_out(user, action: str, asset_ids: list[int], new_owner_id: int | None = None) -> tuple[Plan, BulkChange]:
    """Run a confirmed bulk action on every selected asset, or on none (ReviewError says why); what
    the assets were before is kept (a BulkChange) for `undo`."""
    planned = plan(user, action, asset_ids, new_owner_id)
    ids = [a.id for a in planned.assets]
    before = _snapshot(planned.assets, action)
    if action == "verify":
        try:
            freshness.verify(user, planned.assets)
        except freshness.FreshnessError as exc:
            raise ReviewError(str(exc)) from exc
    elif action == "archive":
        with transaction():  # through the ORM: the search outbox follows status changes
            for asset in planned.assets:
                asset.status, asset.updated_at = AssetStatus.ARCHIVED.value, utcnow()
    elif action == "refresh":
        with transaction():  # a request to check is not new content: updated_at stays
            db.session.execute(update(Asset).where(Asset.id.in_(ids))
                               .values(refresh_requested_at=utcnow(), updated_at=Asset.updated_at)
                               .execution_options(synchronize_session="fetch"))
    else:
        with transaction():  # a new owner is not new content: updated_at stays
            db.session.execute(update(Asset).where(Asset.id.in_(ids))
                               .values(owner_id=planned.new_owner.id, updated_at=Asset.updated_at)
                               .execution_options(synchronize_session="fetch"))
    for asset in planned.assets:
        db.session.refresh(asset)
    with transaction():
        change = BulkChange(user_id=user.id, action=action, summary=planned.done[:300], before=before,
                            after=_snapshot(planned.assets, action))
        db.session.add(change)
    return planned, change


def _value(value):
    return value.isoformat() if isinstance(value, datetime) else value


def _snapshot(items: list[Asset], action: str) -> dict[str, dict]:
    return {str(a.id): {column: _value(getattr(a, column)) for column in CHANGES[action]} for a in items}


def undoable(user, change_id: int) -> BulkChange | None:
    """The caller's own bulk change, not undone yet and recent enough to undo; None otherwise."""
    change = db.session.get(BulkChange, change_id)
    if change is None or change.user_id != user.id or change.undone_at is not None:
        return None
    return change if change.created_at >= utcnow() - timedelta(hours=UNDO_HOURS) else None


def undo(user, change_id: int) -> BulkChange:
    """Put every asset of a bulk change back as it was, or none: refused when one has changed since."""
    change = undoable(user, change_id)
    if change is None:
        raise ReviewError("That change can no longer be undone (already undone, someone else's, or older "
                          f"than {UNDO_HOURS} hours).")
    found = {str(a.id): a for a in db.session.scalars(select(Asset).where(
        Asset.id.in_([int(i) for i in change.before])))}
    moved = [found[i].title for i, now in change.after.items()
             if i not in found or _snapshot([found[i]], change.action)[i] != now]
    if len(found) != len(change.before) or moved:
        raise ReviewError(f"“{moved[0] if moved else 'An asset'}” changed since, so nothing was undone.")
    with transaction():  # through the ORM: the search outbox follows a status put back
        for asset_id, values in change.before.items():
            for column, value in values.items():
                is_time = column.endswith("_at") and value is not None
                setattr(found[asset_id], column, datetime.fromisoformat(value) if is_time else value)
            if "updated_at" not in values:
                flag_modified(found[asset_id], "updated_at")  # written as it is: undoing is not a content change
        change.undone_at = utcnow()
    return change
