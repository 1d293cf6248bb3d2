"""Deal rooms: one buyer page per opportunity, with the rep's note and content in the rep's order."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import utcnow

if TYPE_CHECKING:
    from app.models.accounts import User
    from app.models.deals import Opportunity
    from app.models.documents import GeneratedDocument
    from app.models.library import Asset


class DealRoom(db.Model):
    """The buyer's page for one deal at /r/<token>: what the rep says, who to call, what to read.

    `user_id` is the deal's owner when the room was made: the contact shown to the buyer and the rep
    alerted on visits. `last_visit_at` is a buyer's latest open (a visit after a quiet period alerts
    again); `alerted_at` the latest alert."""

    __tablename__ = "deal_room"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    opportunity_id: Mapped[int] = mapped_column(ForeignKey("opportunity.id", ondelete="CASCADE"), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text, default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    cta_label: Mapped[str] = mapped_column(String(80), default="")
    cta_url: Mapped[str] = mapped_column(String(500), default="")
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    first_visit_at: Mapped[datetime | None]
    last_visit_at: Mapped[datetime | None]
    alerted_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
    opportunity: Mapped[Opportunity] = relationship()
    items: Mapped[list[DealRoomItem]] = relationship(
        order_by="DealRoomItem.position", cascade="all, delete-orphan", passive_deletes=True,
        back_populates="room")


class DealRoomItem(db.Model):
    """One asset or one of the rep's customized documents in a room, at its place in the rep's order.

    An item outlives what it shows (foreign keys set to NULL); the buyer's page lists only items whose
    content may still be seen by a prospect."""

    __tablename__ = "deal_room_item"
    __table_args__ = (Index("ix_deal_room_item_room_id_position", "room_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("deal_room.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("asset.id", ondelete="SET NULL"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("generated_document.id", ondelete="SET NULL"))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    room: Mapped[DealRoom] = relationship(back_populates="items")
    asset: Mapped[Asset | None] = relationship()
    document: Mapped[GeneratedDocument | None] = relationship()
