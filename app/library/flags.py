"""Flags: "this asset is outdated or wrong", queued for the asset's owner until a marketer resolves it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import usage
from app.database import transaction
from app.extensions import db
from app.models import FLAG_REASONS, Asset, Flag, utcnow


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


def resolve(flag: Flag, user, resolution: str = "") -> Flag:
    """Close a flag, saying what was done about it."""
    if flag.resolved_at is not None:
        raise FlagError("This flag was already resolved.")
    with transaction():
        flag.resolved_at, flag.resolved_by_id = utcnow(), user.id
        flag.resolution = resolution.strip()[:2000]
    return flag


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
