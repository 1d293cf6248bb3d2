"""Notification preferences, the ledger that keeps producers idempotent, digest items and sent digests,
and the taxonomy terms a user follows (their segments)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import utcnow

# What a notification is about; each has the user's in-app and email preference (app/notifications/preferences.py).
NOTIFICATION_KINDS = {
    "flag_resolved": "A flag I raised was resolved, or content I used was corrected",
    "review_due": "An asset I own needs review or is about to expire",
    "new_content": "New or updated content in my segments",
    "share_open": "A prospect opened something I shared",
    "room_visit": "A buyer visited one of my deal rooms",
    "job_done": "Work I started in the background (bulk PDFs, a kit) is ready",
    "job_failed": "Work I started in the background failed",
}
# The same kinds, short: the centre's tabs.
NOTIFICATION_TABS = {"flag_resolved": "Flags resolved", "review_due": "Reviews due", "new_content": "New content",
                     "share_open": "Shares opened", "room_visit": "Room visits",
                     "job_done": "Work ready", "job_failed": "Work failed"}
EMAIL_CHOICES = {"off": "No email", "immediate": "Email at once", "weekly": "Weekly digest"}


class NotificationPreference(db.Model):
    """One user's choice for one kind; a kind without a row has its role's default."""

    __tablename__ = "notification_preference"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    in_app: Mapped[bool] = mapped_column(default=True)
    email: Mapped[str] = mapped_column(String(10), default="off")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class NotificationKey(db.Model):
    """That a producer already told `user_id` about `key` ("asset:12:review:2026-11-30"), whatever the
    user's preferences made of it: running a producer twice tells nobody twice."""

    __tablename__ = "notification_key"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DigestItem(db.Model):
    """A notification waiting for the user's weekly digest of its kind; `sent_at` once mailed."""

    __tablename__ = "digest_item"
    __table_args__ = (Index("ix_digest_item_kind_sent_at", "kind", "sent_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(String(300))
    link: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class DigestSent(db.Model):
    """The digest of `kind` mailed to a user in ISO week `week` ("2026-W49"): at most one each."""

    __tablename__ = "digest_sent"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    week: Mapped[str] = mapped_column(String(8), primary_key=True)
    items: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)


# The taxonomy terms a user chose to follow: "new content in my segments" (app/library/notices.py).
user_segment = Table(
    "user_segment",
    db.metadata,
    Column("user_id", ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
    Column("term_id", ForeignKey("term.id", ondelete="CASCADE"), primary_key=True),
)
