"""A user's notifications: written by the area whose event it tells of, read in the top bar."""
from __future__ import annotations

from sqlalchemy import func, select

from app.database import transaction
from app.extensions import db
from app.models import Notification, utcnow


def notify(user_id: int, message: str, link: str = "", kind: str = "") -> None:
    """Tell a user something, in the caller's transaction. `kind` ("flag_resolved", "review_due",
    "new_content", "share_open", "room_visit", "job_done", "job_failed") will choose the user's
    preference for it; until the notification centre stores preferences it is not kept."""
    db.session.add(Notification(user_id=user_id, message=message[:300], link=link[:300]))


def unread_count(user) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)))


def notifications_of(user, limit: int = 50) -> list[Notification]:
    """The user's latest notifications; reading them marks them read."""
    items = list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                                    .order_by(Notification.created_at.desc()).limit(limit)))
    with transaction():
        for item in items:
            item.read_at = item.read_at or utcnow()
    return items
