"""Customizable templates, generated documents and kit drafts."""
from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from app.extensions import db
from app.models.base import utcnow

if TYPE_CHECKING:
    from app.models.accounts import User
    from app.models.library import Asset



class DocumentTemplate(db.Model):
    """The HTML + CSS that makes an asset customizable, with the fields a rep fills in."""

    __tablename__ = "document_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("asset.id", ondelete="CASCADE"), unique=True)
    html: Mapped[str] = mapped_column(Text)
    css: Mapped[str] = mapped_column(Text, default="")
    fields: Mapped[list[dict]] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    asset: Mapped[Asset] = relationship(backref=backref("template", uselist=False, passive_deletes=True))


class GeneratedDocument(db.Model):
    """A PDF a rep made from a template: who, when, for which account, with which values."""

    __tablename__ = "generated_document"
    __table_args__ = (Index("ix_generated_document_user_id_created_at", "user_id", "created_at"),
                      Index("ix_generated_document_job_key", "job_key", unique=True))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("asset.id", ondelete="SET NULL"))
    template_version: Mapped[int]
    account: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(240))
    values: Mapped[dict] = mapped_column(JSON, default=dict)
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    page_count: Mapped[int]
    size_bytes: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # "<job id>:<row>" for a document a job made: a job retried after its worker died finds the rows
    # it already made instead of making them twice.
    job_key: Mapped[str | None] = mapped_column(String(40))

    asset: Mapped[Asset | None] = relationship()
    user: Mapped[User] = relationship()

    @property
    def buyer_title(self) -> str:
        """The title a prospect sees: a pitch kit's cover title ("Prepared for <account>" unless the
        rep gave one), not "Pitch kit — …", the rep's own name for it in My documents."""
        if self.asset_id is None and "kit" in (self.values or {}):
            return (self.values.get("title") or "").strip() or f"Prepared for {self.account}"
        return self.title

    @property
    def file_name(self) -> str:
        """The name it downloads under (the rep's and the prospect's): the title a prospect sees without
        the characters file systems refuse (Windows' too), and no "Ltd..pdf" when it ends with a full stop."""
        stem = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "-", self.buyer_title).strip(" .-")
        return f"{stem or f'document-{self.id}'}.pdf"


class KitDraft(db.Model):
    """A rep's pitch kit in the making: kept between searches, pages and sessions until built."""

    __tablename__ = "kit_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), unique=True)
    account: Mapped[str] = mapped_column(String(120), default="")
    title: Mapped[str] = mapped_column(String(200), default="")
    intro: Mapped[str] = mapped_column(Text, default="")
    # The rep's deal the kit is for: its account names the kit, and the kit's events carry it.
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("opportunity.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    items: Mapped[list[KitDraftItem]] = relationship(
        order_by="KitDraftItem.position", cascade="all, delete-orphan", passive_deletes=True)


class KitDraftItem(db.Model):
    """One part of a draft kit: a library asset or one of the rep's own customized documents."""

    __tablename__ = "kit_draft_item"
    __table_args__ = (
        UniqueConstraint("draft_id", "asset_id", name="uq_kit_draft_item_draft_id_asset_id"),
        UniqueConstraint("draft_id", "document_id", name="uq_kit_draft_item_draft_id_document_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("kit_draft.id", ondelete="CASCADE"))
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("asset.id", ondelete="CASCADE"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("generated_document.id", ondelete="CASCADE"))
    position: Mapped[int]
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    asset: Mapped[Asset | None] = relationship()
    document: Mapped[GeneratedDocument | None] = relationship()
