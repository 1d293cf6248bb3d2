"""Flags: "this asset is outdated or wrong", queued for the asset's owner until a marketer resolves it."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import usage
from app.database import transaction
from app.extensions import db
from app.library.freshness import WARNING_FLAGS
from app.models import FLAG_REASONS, Asset, Flag, Role, UsageEvent, User, utcnow
from app.notifications import service as notifications

# Flags that say the content itself may mislead a customer: reps are warned while one is open.
WARNING_REASONS = WARNING_FLAGS
# When a resolution changed the content, the reps who used the asset this recently are told too.
RECENT_USE_DAYS = 30


class FlagError(ValueError):
    """A user-facing reason why a flag was refused."""


def raise_flag(user, asset: Asset, reason: str, note: str = "", *, at: datetime | None = None) -> Flag:
    """Record and log `user`'s report that `asset` needs attention (`at` backdates it)."""
    if reason not in FLAG_REASONS:
        raise FlagError("Choose why the asset needs attention.")
    with transaction():
        flag = Flag(asset_id=asset.id, user_id=user.id, reason=reason, note=note.strip()[:2000],
                    created_at=at or utcnow())
        db.session.add(flag)
    usage.log_event("flag", user=user, asset=asset, at=at, reason=reason)
    return flag


def resolve(flag: Flag, user, resolution: str = "", *, content_changed: bool = False, asset_url: str = "") -> Flag:
    """Close a flag, saying what was done about it, and tell its flagger (the asset's page at `asset_url`).

    When `content_changed`, reps who used the asset in the last RECENT_USE_DAYS days are told as well:
    they may have sent the wrong version and want the new one. A flag closed with nothing changed ("it
    was right") concerns only the flagger; telling everyone would teach them to ignore these."""
    if flag.resolved_at is not None:
        raise FlagError("This flag was already resolved.")
    if not resolution.strip():
        raise FlagError("Say in a few words what was done (or why nothing needed changing): "
                        "the rep who flagged it is told.")
    with transaction():
        flag.resolved_at, flag.resolved_by_id = utcnow(), user.id
        flag.resolution = resolution.strip()[:2000]
        said = f": {flag.resolution}" if flag.resolution else "."
        title = flag.asset.title
        if flag.user_id is not None and flag.user_id != user.id:
            notifications.notify(flag.user_id, f"{user.name} resolved your flag on “{title}”{said}", asset_url,
                                 kind="flag_resolved")
        if content_changed:
            for user_id in recent_users(flag.asset_id, exclude={flag.user_id, user.id}):
                notifications.notify(user_id, f"“{title}”, which you used recently, was corrected{said}", asset_url,
                                     kind="flag_resolved")
    return flag


def recent_users(asset_id: int, exclude: set = frozenset()) -> list[int]:
    """Active reps and managers who used the asset in the last RECENT_USE_DAYS days."""
    since = utcnow() - timedelta(days=RECENT_USE_DAYS)
    query = (select(UsageEvent.user_id).distinct().join(User, User.id == UsageEvent.user_id)
             .where(UsageEvent.asset_id == asset_id, UsageEvent.kind.in_(usage.USE_KINDS),
                    UsageEvent.created_at >= since, User.active.is_(True),
                    User.role.in_((Role.REP.value, Role.MANAGER.value))))
    return sorted(set(db.session.scalars(query)) - set(exclude))


def open_warnings() -> dict[int, Flag]:
    """The newest open "wrong" or "outdated" flag of each asset that has one: what reps are warned of.
    Few at any time, so a page reads them all at once instead of asking per asset."""
    found: dict[int, Flag] = {}
    for flag in db.session.scalars(select(Flag).where(Flag.resolved_at.is_(None), Flag.reason.in_(WARNING_REASONS))
                                   .order_by(Flag.created_at, Flag.id)):
        found[flag.asset_id] = flag
    return found


def get(flag_id: int) -> Flag | None:
    return db.session.get(Flag, flag_id)


def queue(owner=None, resolved: bool = False, limit: int = 200) -> list[Flag]:
    """Open (or recently resolved) flags, newest first; only on `owner`'s assets when given."""
    query = (select(Flag).join(Flag.asset)
             .options(selectinload(Flag.asset).selectinload(Asset.owner), selectinload(Flag.user))
             .order_by(Flag.created_at.desc(), Flag.id.desc()).limit(limit))
    query = query.where(Flag.resolved_at.is_not(None) if resolved else Flag.resolved_at.is_(None))
    if owner is not None:
        query = query.where(Asset.owner_id == owner.id)
    return list(db.session.scalars(query))


def open_on(asset: Asset) -> list[Flag]:
    return list(db.session.scalars(
        select(Flag).where(Flag.asset_id == asset.id, Flag.resolved_at.is_(None)).order_by(Flag.created_at)))
