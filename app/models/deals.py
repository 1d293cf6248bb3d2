"""Deals: CRM accounts with their taxonomy terms, opportunities moving through the funnel's stages,
the history of those moves, and marketers' plays (assets pinned to a term × stage cell)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, Column, ForeignKey, Index, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import utcnow

if TYPE_CHECKING:
    from app.models.accounts import User
    from app.models.library import Asset, Stage, Term

# An opportunity is open until the CRM says it was won or lost; closing records when.
OPPORTUNITY_STATUSES = {"open": "Open", "won": "Won", "lost": "Lost"}
CLOSED_STATUSES = ("won", "lost")

account_term = Table(
    "account_term",
    db.metadata,
    Column("account_id", ForeignKey("account.id", ondelete="CASCADE"), primary_key=True),
    Column("term_id", ForeignKey("term.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_account_term_term_id", "term_id"),
)


class Account(db.Model):
    """A customer or prospect company as the CRM knows it, tagged with the library's terms."""

    __tablename__ = "account"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # The CRM's own id: imports and the API update the account it names instead of adding one.
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    terms: Mapped[list[Term]] = relationship(secondary=account_term, order_by="(Term.position, Term.name)")


class Opportunity(db.Model):
    """A deal: an account, a stage of the funnel, an amount, a close date and the rep who owns it."""

    __tablename__ = "opportunity"
    __table_args__ = (
        Index("ix_opportunity_owner_id_status_close_date", "owner_id", "status", "close_date"),
        Index("ix_opportunity_status_closed_at", "status", "closed_at"),
        Index("ix_opportunity_account_id", "account_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    stage_id: Mapped[int | None] = mapped_column(ForeignKey("stage.id", ondelete="SET NULL"))
    # Money in minor units (cents): exact on both databases, no floating point.
    amount_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    close_date: Mapped[date | None]
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(8), default="open")
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    account: Mapped[Account] = relationship()
    stage: Mapped[Stage | None] = relationship()
    owner: Mapped[User | None] = relationship()
    changes: Mapped[list[OpportunityStageChange]] = relationship(
        order_by="OpportunityStageChange.changed_at", cascade="all, delete-orphan", passive_deletes=True,
        back_populates="opportunity")

    @property
    def amount(self) -> Decimal:
        return Decimal(self.amount_minor) / 100

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    @property
    def status_label(self) -> str:
        return OPPORTUNITY_STATUSES.get(self.status, self.status)


class OpportunityStageChange(db.Model):
    """One move of an opportunity: to another stage, or closed won or lost, and when."""

    __tablename__ = "opportunity_stage_change"
    __table_args__ = (Index("ix_opportunity_stage_change_opportunity_id_changed_at", "opportunity_id", "changed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(ForeignKey("opportunity.id", ondelete="CASCADE"))
    from_stage_id: Mapped[int | None] = mapped_column(ForeignKey("stage.id", ondelete="SET NULL"))
    to_stage_id: Mapped[int | None] = mapped_column(ForeignKey("stage.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(8))  # the opportunity's status after the move
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(8))  # import, api, app, demo

    opportunity: Mapped[Opportunity] = relationship(back_populates="changes")
    from_stage: Mapped[Stage | None] = relationship(foreign_keys=[from_stage_id])
    to_stage: Mapped[Stage | None] = relationship(foreign_keys=[to_stage_id])


class Play(db.Model):
    """Marketing's pick for a cell of the coverage grid: this asset for deals of this term at this stage."""

    __tablename__ = "play"
    __table_args__ = (UniqueConstraint("term_id", "stage_id", "asset_id", name="uq_play_term_id_stage_id_asset_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    term_id: Mapped[int] = mapped_column(ForeignKey("term.id", ondelete="CASCADE"))
    stage_id: Mapped[int] = mapped_column(ForeignKey("stage.id", ondelete="CASCADE"))
    asset_id: Mapped[int] = mapped_column(ForeignKey("asset.id", ondelete="CASCADE"))
    note: Mapped[str] = mapped_column(String(200), default="")
    pinned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    term: Mapped[Term] = relationship()
    stage: Mapped[Stage] = relationship()
    asset: Mapped[Asset] = relationship()
