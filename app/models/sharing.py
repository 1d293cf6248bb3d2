"""Tracked share links."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import utcnow

if TYPE_CHECKING:
    from app.models.accounts import User
    from app.models.documents import GeneratedDocument
    from app.models.library import Asset, AssetVersion


SHARE_CALLS_TO_ACTION = {"reply": "Reply by email", "meeting": "Book a meeting"}


class ShareLink(db.Model):
    """A link that lets one prospect view one asset or document, tracked, while its content may be seen.

    The link outlives what it shows (foreign keys set to NULL), so a prospect who opens it after the
    asset or document was deleted learns whom to ask instead of finding nothing.
    """

    __tablename__ = "share_link"
    __table_args__ = (Index("ix_share_link_user_id_created_at", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("asset.id", ondelete="SET NULL"))
    # The file version shared: a link to an asset's file ends when the file is replaced.
    version_id: Mapped[int | None] = mapped_column(ForeignKey("asset_version.id", ondelete="SET NULL"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("generated_document.id", ondelete="SET NULL"))
    recipient_name: Mapped[str] = mapped_column(String(120), default="")
    recipient_email: Mapped[str] = mapped_column(String(254), default="")
    account: Mapped[str] = mapped_column(String(120), default="")
    allow_download: Mapped[bool] = mapped_column(default=True)
    expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    first_opened_at: Mapped[datetime | None]
    # The sender's own words and next step, shown to the prospect.
    message: Mapped[str] = mapped_column(Text, default="", server_default="")
    cta: Mapped[str] = mapped_column(String(10), default="", server_default="")
    meeting_url: Mapped[str] = mapped_column(String(500), default="", server_default="")
    # The deal the link was sent in: the prospect's opens, pages and downloads are logged with it.
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("opportunity.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship()
    asset: Mapped[Asset | None] = relationship()
    version: Mapped[AssetVersion | None] = relationship()
    document: Mapped[GeneratedDocument | None] = relationship()
