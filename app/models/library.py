"""Collateral and its taxonomy: kinds, audiences, dimensions, terms, stages, assets and versions,
ratings, flags, collections and synonyms."""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import utcnow

if TYPE_CHECKING:
    from app.models.accounts import User



class AssetKind(str, enum.Enum):
    BROCHURE = "brochure"
    ONE_PAGER = "one_pager"
    CASE_STUDY = "case_study"
    SLIDE_DECK = "slide_deck"
    DATASHEET = "datasheet"
    MESSAGING = "messaging"
    EMAIL_TEMPLATE = "email_template"
    BATTLECARD = "battlecard"
    VIDEO_LINK = "video_link"

    @property
    def label(self) -> str:
        return KIND_LABELS[self]


KIND_LABELS = {
    AssetKind.BROCHURE: "Brochure",
    AssetKind.ONE_PAGER: "One-pager",
    AssetKind.CASE_STUDY: "Case study",
    AssetKind.SLIDE_DECK: "Slide deck",
    AssetKind.DATASHEET: "Datasheet",
    AssetKind.MESSAGING: "Messaging / talk track",
    AssetKind.EMAIL_TEMPLATE: "Email template",
    AssetKind.BATTLECARD: "Battlecard",
    AssetKind.VIDEO_LINK: "Video link",
}


# Who may see an asset's content: prospects (shared, put in kits, customized into customer
# documents) or only the company's own people. Kinds written for reps' eyes default to internal.
AUDIENCES = {"customer": "Customer-facing", "internal": "Internal only"}
INTERNAL_KINDS = frozenset({AssetKind.MESSAGING.value, AssetKind.EMAIL_TEMPLATE.value, AssetKind.BATTLECARD.value})


def default_audience(kind: str) -> str:
    """The audience an asset of `kind` gets unless its author says otherwise."""
    return "internal" if kind in INTERNAL_KINDS else "customer"


class AssetStatus(str, enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class Dimension(db.Model):
    """A way customers differ that assets are tagged along: Industry, Company size, Region, Persona…"""

    __tablename__ = "dimension"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    position: Mapped[int] = mapped_column(default=0)

    terms: Mapped[list[Term]] = relationship(back_populates="dimension", order_by="(Term.position, Term.name)",
                                             cascade="all, delete-orphan", passive_deletes=True)


class Term(db.Model):
    """One value of a dimension: Healthcare in Industry, Mid-Market in Company size."""

    __tablename__ = "term"
    __table_args__ = (UniqueConstraint("dimension_id", "name", name="uq_term_dimension_id_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dimension_id: Mapped[int] = mapped_column(ForeignKey("dimension.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(default=0)

    dimension: Mapped[Dimension] = relationship(back_populates="terms")


class Stage(db.Model):
    """A funnel stage; `position` orders the funnel."""

    __tablename__ = "stage"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    position: Mapped[int] = mapped_column(default=0)


asset_term = Table(
    "asset_term",
    db.metadata,
    Column("asset_id", ForeignKey("asset.id", ondelete="CASCADE"), primary_key=True),
    Column("term_id", ForeignKey("term.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_asset_term_term_id", "term_id"),
)

asset_stage = Table(
    "asset_stage",
    db.metadata,
    Column("asset_id", ForeignKey("asset.id", ondelete="CASCADE"), primary_key=True),
    Column("stage_id", ForeignKey("stage.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_asset_stage_stage_id", "stage_id"),
)


class Asset(db.Model):
    """A piece of collateral: a file with versions, Markdown messaging, or a video link."""

    __tablename__ = "asset"
    __table_args__ = (Index("ix_asset_status_expires_on", "status", "expires_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(20))
    product: Mapped[str] = mapped_column(String(80), default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    status: Mapped[str] = mapped_column(String(12), default=AssetStatus.DRAFT.value)
    expires_on: Mapped[date | None]
    body: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(String(500), default="")
    audience: Mapped[str] = mapped_column(String(10), default="customer", server_default="customer")
    # The manifest path an imported asset came from: re-importing updates instead of duplicating.
    source_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Freshness (app/library/freshness.py): checked every `review_interval_days` (a default per kind);
    # the review clock runs from `verified_at`, set on creation, by a verification, and by migration
    # 0010 for older assets; `verified_by` is None when nobody has verified it yet.
    review_interval_days: Mapped[int] = mapped_column(default=90, server_default="90")
    verified_at: Mapped[datetime] = mapped_column(default=utcnow)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    # "Mark for refresh" (a bulk action on insights pages): needs review from that moment until verified.
    refresh_requested_at: Mapped[datetime | None]

    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])
    # Ordered within a dimension; `terms_by_dimension` groups them in the dimensions' order.
    terms: Mapped[list[Term]] = relationship(secondary=asset_term, order_by="(Term.position, Term.name)")
    stages: Mapped[list[Stage]] = relationship(secondary=asset_stage, order_by="Stage.position")
    versions: Mapped[list[AssetVersion]] = relationship(
        back_populates="asset",
        order_by="AssetVersion.number.desc()",
        cascade="all, delete-orphan",
    )

    @property
    def current_version(self) -> AssetVersion | None:
        return self.versions[0] if self.versions else None

    @property
    def kind_label(self) -> str:
        return AssetKind(self.kind).label

    @property
    def is_internal(self) -> bool:
        return self.audience == "internal"

    @property
    def goes_out_customized(self) -> bool:
        """Customizable with nothing of its own to send (no file, no link): its text tells reps how to
        use the template, so what reaches a prospect is the document made from it."""
        return not self.url and self.template is not None and not self.versions

    @property
    def audience_label(self) -> str:
        return AUDIENCES.get(self.audience, self.audience)

    def terms_by_dimension(self) -> list[tuple[Dimension, list[Term]]]:
        """The asset's terms grouped by dimension, dimensions in their order."""
        groups: dict[int, tuple[Dimension, list[Term]]] = {}
        for term in self.terms:
            groups.setdefault(term.dimension_id, (term.dimension, []))[1].append(term)
        return sorted(groups.values(), key=lambda group: (group[0].position, group[0].name))

    def is_visible_on(self, day: date) -> bool:
        """Whether reps and managers may see this asset on `day`."""
        return self.status == AssetStatus.PUBLISHED.value and (
            self.expires_on is None or self.expires_on >= day
        )


class AssetVersion(db.Model):
    """One uploaded file of an asset, stored under a generated name."""

    __tablename__ = "asset_version"
    __table_args__ = (UniqueConstraint("asset_id", "number", name="uq_asset_version_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("asset.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    original_filename: Mapped[str] = mapped_column(String(255))
    file_type: Mapped[str] = mapped_column(String(8))
    mime_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    page_count: Mapped[int | None]
    text: Mapped[str] = mapped_column(Text, default="")
    thumbnail_name: Mapped[str | None] = mapped_column(String(64))
    # A deck's or document's pages as a PDF (converted at upload); a PDF is its own.
    preview_name: Mapped[str | None] = mapped_column(String(64))
    preview_note: Mapped[str] = mapped_column(String(300), default="", server_default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    asset: Mapped[Asset] = relationship(back_populates="versions")
    created_by: Mapped[User | None] = relationship()

    @property
    def pages_name(self) -> str | None:
        """The stored PDF whose pages show this version (its own file, or its converted preview)."""
        return self.stored_name if self.file_type == "pdf" else self.preview_name


class Rating(db.Model):
    """One user's 1–5 star rating of an asset, with optional comment and deal context."""

    __tablename__ = "rating"
    __table_args__ = (
        UniqueConstraint("user_id", "asset_id", name="uq_rating_user_id_asset_id"),
        Index("ix_rating_asset_id", "asset_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    asset_id: Mapped[int] = mapped_column(ForeignKey("asset.id", ondelete="CASCADE"))
    stars: Mapped[int]
    comment: Mapped[str] = mapped_column(Text, default="")
    account: Mapped[str] = mapped_column(String(120), default="")
    outcome: Mapped[str] = mapped_column(String(8), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship()


FLAG_REASONS = {
    "outdated": "Outdated",
    "wrong": "Wrong or inaccurate",
    "broken": "Broken file or link",
    "other": "Something else",
}


class Flag(db.Model):
    """A report that an asset is outdated or wrong, waiting in its owner's queue until resolved."""

    __tablename__ = "flag"
    __table_args__ = (Index("ix_flag_asset_id_resolved_at", "asset_id", "resolved_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("asset.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    resolution: Mapped[str] = mapped_column(Text, default="")

    asset: Mapped[Asset] = relationship()
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])

    @property
    def reason_label(self) -> str:
        return FLAG_REASONS.get(self.reason, self.reason)


class Collection(db.Model):
    """A user's named list of assets, kept for later: the ones they reuse, or a pitch kit in the making."""

    __tablename__ = "collection"
    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_collection_user_id_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    items: Mapped[list[CollectionItem]] = relationship(
        order_by="CollectionItem.position", cascade="all, delete-orphan", passive_deletes=True)


class CollectionItem(db.Model):
    """One asset in a collection, in the order the user added it."""

    __tablename__ = "collection_item"

    collection_id: Mapped[int] = mapped_column(ForeignKey("collection.id", ondelete="CASCADE"), primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("asset.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int]
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    asset: Mapped[Asset] = relationship()


class Synonym(db.Model):
    """A group of words or phrases that mean the same to a rep ("mid-size, mid-market"): a search
    for any of them finds assets that use another."""

    __tablename__ = "synonym"

    id: Mapped[int] = mapped_column(primary_key=True)
    terms: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))


class BulkChange(db.Model):
    """A bulk action on assets and what each asset was before it, so that it can be undone (once,
    all or nothing, by the person who did it): app/library/reviews.py."""

    __tablename__ = "bulk_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(String(300), default="")
    # {asset id: {column: value before}} and {asset id: {column: value after}}, datetimes as ISO text
    before: Mapped[dict] = mapped_column(JSON, default=dict)
    after: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    undone_at: Mapped[datetime | None]
