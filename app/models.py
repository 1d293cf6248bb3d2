"""Typed SQLAlchemy models: people, taxonomy, collateral and the usage log."""
from __future__ import annotations

import enum
import re
import secrets
from datetime import UTC, date, datetime

from flask_login import UserMixin
from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db


def utcnow() -> datetime:
    """Naive UTC timestamp: both SQLite and PostgreSQL store it the same way."""
    return datetime.now(UTC).replace(tzinfo=None)


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class Role(str, enum.Enum):
    REP = "rep"
    MARKETER = "marketer"
    MANAGER = "manager"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return self.value.capitalize()


# Who may do what: every route names one of these (app/web/access.py); services ask them too.
EVERYONE = (Role.REP, Role.MARKETER, Role.MANAGER, Role.ADMIN)
CONTENT_WRITERS = (Role.MARKETER, Role.ADMIN)
ADMINS = (Role.ADMIN,)
RATERS = (Role.REP, Role.MANAGER)  # the people who use content with customers
INSIGHT_VIEWERS = (Role.MARKETER, Role.MANAGER, Role.ADMIN)  # managers: their own team only


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


class Team(db.Model):
    __tablename__ = "team"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)

    members: Mapped[list[User]] = relationship(back_populates="team", order_by="User.name")


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16), default=Role.REP.value)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"))
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(default=True)
    # Rotated on logout, password reset and deactivation: a copied session cookie dies with it.
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    team: Mapped[Team | None] = relationship(back_populates="members")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def rotate_session(self) -> None:
        self.session_token = new_session_token()

    def get_id(self) -> str:
        return self.session_token

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def has_role(self, *roles: Role | str) -> bool:
        return self.role in {Role(r).value for r in roles}


class ApiToken(db.Model):
    """A personal bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


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


class UsageEvent(db.Model):
    """One interaction with Bridge. Short typed columns; details in `context`."""

    __tablename__ = "usage_event"
    __table_args__ = (
        # Insights read ranges of the log; these indexes hold every column those queries read,
        # so SQLite answers from the index alone (bench/insights.py: 3× faster than without).
        Index("ix_usage_event_kind_created_at_cover", "kind", "created_at", "asset_id", "team_id", "user_id"),
        Index("ix_usage_event_asset_id_kind_created_at", "asset_id", "kind", "created_at", "team_id"),
        Index("ix_usage_event_user_id_created_at_kind", "user_id", "created_at", "kind"),
        Index("ix_usage_event_search_id", "search_id",
              sqlite_where=text("search_id IS NOT NULL"), postgresql_where=text("search_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id", ondelete="SET NULL"))
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("asset.id", ondelete="SET NULL"))
    version_id: Mapped[int | None] = mapped_column(
        ForeignKey("asset_version.id", ondelete="SET NULL")
    )
    # Ties a search to the clicks on its results (a token: buffered events have no id yet).
    search_id: Mapped[str | None] = mapped_column(String(32))
    context: Mapped[dict] = mapped_column(JSON, default=dict)


class SearchOutbox(db.Model):
    """Assets whose search entry must be refreshed, written in the same transaction as the change.

    The index is updated from these rows after commit; a row leaves only once the index holds
    the change, so no update is lost when a worker cannot get the index lock or exits.
    """

    __tablename__ = "search_outbox"
    __table_args__ = {"sqlite_autoincrement": True}  # ids never reused: see app/search/outbox.py

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int]  # no foreign key: deleted assets must still leave the index
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


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
    __table_args__ = (Index("ix_generated_document_user_id_created_at", "user_id", "created_at"),)

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

    asset: Mapped[Asset | None] = relationship()
    user: Mapped[User] = relationship()

    @property
    def file_name(self) -> str:
        """The name it downloads under: the title without the characters file systems refuse
        (Windows' too), and no "Ltd..pdf" when the title ends with a full stop."""
        stem = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "-", self.title).strip(" .-")
        return f"{stem or f'document-{self.id}'}.pdf"


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

    user: Mapped[User] = relationship()
    asset: Mapped[Asset | None] = relationship()
    version: Mapped[AssetVersion | None] = relationship()
    document: Mapped[GeneratedDocument | None] = relationship()


class Notification(db.Model):
    """Something a user should know, shown in the top bar until read."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user_id_read_at", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    message: Mapped[str] = mapped_column(String(300))
    link: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]


class RateLimitWindow(db.Model):
    """Requests counted per key (a client, a token) and fixed time window, shared by all workers."""

    __tablename__ = "rate_limit_window"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    window: Mapped[int] = mapped_column(primary_key=True)
    hits: Mapped[int] = mapped_column(default=0)


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


class Setting(db.Model):
    """One site-wide setting an admin changes in the app (the company's name and logo)."""

    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class KitDraft(db.Model):
    """A rep's pitch kit in the making: kept between searches, pages and sessions until built."""

    __tablename__ = "kit_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), unique=True)
    account: Mapped[str] = mapped_column(String(120), default="")
    title: Mapped[str] = mapped_column(String(200), default="")
    intro: Mapped[str] = mapped_column(Text, default="")
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


class Synonym(db.Model):
    """A group of words or phrases that mean the same to a rep ("mid-size, mid-market"): a search
    for any of them finds assets that use another."""

    __tablename__ = "synonym"

    id: Mapped[int] = mapped_column(primary_key=True)
    terms: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
