"""The usage log and the search outbox the database writes with it."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import JSON, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import utcnow

EVENT_KINDS = (
    "view", "download", "copy", "search", "search_click", "customize",
    "share", "share_open", "share_page", "share_download", "rate", "flag", "verify",
)
# --- definitions: one per number, used by every page, export, API answer and the weekly PDF ---------
# (the README's glossary says the same; tests/insights/test_consistency.py holds them to it)
# A *use*: one of these events on an asset. Marketers' and admins' own views, downloads and copies are
# never logged (`log_use`), so every use is a rep's or a manager's.
# Sending an asset to a buyer within a deal: a share link, a customized document or a kit (customize).
SENT_KINDS = ("share", "customize")
USE_KINDS = ("view", "download", "copy", "customize", "share")
# *Buyer engagement*: a prospect's open, page or download of an asset on a share link or a deal room.
# An asset was *opened by the buyer* in a deal when one of these events names the deal (its
# opportunity_id) and the asset, logged no later than the deal closed: apart from what the rep sent.
BUYER_KINDS = ("share_open", "share_page", "share_download")
# A *working session*: one user's events (of any kind) in the range, in time order, with no gap longer
# than SESSION_GAP between two in a row. *Time to find*: from a session's first search to the first
# use (USE_KINDS, on an asset) after it in the same session; a session with a search and no use after
# it is *not found*.
SESSION_GAP = timedelta(minutes=30)
# An *active rep*: an active rep account with at least one event of any kind in the range.
# *Ignored*: a live asset with no use in the range, unless it is younger than IGNORE_GRACE_DAYS at the
# range's end: then it is *new* (nobody has had the time to use it yet).
IGNORE_GRACE_DAYS = 14


class UsageEvent(db.Model):
    """One interaction with Bridge. Short typed columns; details in `context`."""

    __tablename__ = "usage_event"
    __table_args__ = (
        # Insights read ranges of the log; these indexes hold every column those queries read,
        # so SQLite answers from the index alone (bench/insights.py: 3× faster than without).
        Index("ix_usage_event_kind_created_at_cover", "kind", "created_at", "asset_id", "team_id", "user_id"),
        Index("ix_usage_event_asset_id_kind_created_at", "asset_id", "kind", "created_at", "team_id"),
        Index("ix_usage_event_user_id_created_at_kind", "user_id", "created_at", "kind"),
        Index("ix_usage_event_opportunity_id_kind", "opportunity_id", "kind", "asset_id",
              sqlite_where=text("opportunity_id IS NOT NULL"), postgresql_where=text("opportunity_id IS NOT NULL")),
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
    # The deal the action served (share, kit, customize, rate), when the rep said which.
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("opportunity.id", ondelete="SET NULL"))
    context: Mapped[dict] = mapped_column(JSON, default=dict)


class DealAsset(db.Model):
    """What the log says of one asset in one deal, kept by the writer in the events' own transaction
    (`usage.record`), so deal pages and Influence read a row per deal and asset instead of the log.

    `first_sent_at` is the earliest share or customize event naming both (`usage.SENT_KINDS`),
    `first_opened_at` the earliest buyer event (`usage.BUYER_KINDS`), `uses` the number of uses
    (`usage.USE_KINDS`). "Sent before it closed" is `first_sent_at <= closed_at`: the earliest is
    before the close exactly when some such event is.
    """

    __tablename__ = "deal_asset"
    # On SQLite the rows are stored in key order (no rowid): a deal's assets are read in one range.
    __table_args__ = (Index("ix_deal_asset_asset_id", "asset_id"), {"sqlite_with_rowid": False})

    opportunity_id: Mapped[int] = mapped_column(ForeignKey("opportunity.id", ondelete="CASCADE"), primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("asset.id", ondelete="CASCADE"), primary_key=True)
    first_sent_at: Mapped[datetime | None]
    first_opened_at: Mapped[datetime | None]
    uses: Mapped[int] = mapped_column(default=0)


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


class DismissedGap(db.Model):
    """A content-gap query a marketer set aside ("not something we will write"): listed as resolved."""

    __tablename__ = "dismissed_gap"

    id: Mapped[int] = mapped_column(primary_key=True)
    query: Mapped[str] = mapped_column(String(500), unique=True)  # folded as content gaps group queries
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- summaries of the log, kept by the writer (`app/rollups.py`); rebuildable from it ------------------
# Ids without foreign keys: a summary keeps what the log said when it was written; 0 stands for "none"
# in a key column (a primary key cannot hold NULL).

class EventDay(db.Model):
    """Events of one kind by one user (team at the time) on one UTC day: adoption, active reps, uses per day."""

    __tablename__ = "event_day"
    __table_args__ = (Index("ix_event_day_user_id_day", "user_id", "day"), {"sqlite_with_rowid": False})

    day: Mapped[date] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    user_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    team_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    events: Mapped[int] = mapped_column(default=0)
    last_at: Mapped[datetime]


class SearchDay(db.Model):
    """Searches on one UTC day by one team, per query (folded as content gaps group them) and filters:
    how many, how many found nothing, how many found something and were not clicked (by the searcher)."""

    __tablename__ = "search_day"
    # On SQLite the rows are stored in key order (no rowid): a range of days is read in one pass, counts included.
    __table_args__ = {"sqlite_with_rowid": False}

    day: Mapped[date] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    # Both cut (rollups.QUERY_CHARS, FILTER_CHARS) to keep the key within PostgreSQL's index row size.
    query: Mapped[str] = mapped_column(String(300), primary_key=True)
    filters: Mapped[str] = mapped_column(String(300), primary_key=True)  # the filters as sorted JSON, "" for none
    searches: Mapped[int] = mapped_column(default=0)
    zero_results: Mapped[int] = mapped_column(default=0)  # results 0 or not recorded
    unknown_results: Mapped[int] = mapped_column(default=0)  # results not recorded
    no_click: Mapped[int] = mapped_column(default=0)


class WorkSession(db.Model):
    """One user's working session (`usage.SESSION_GAP`) over all their events: its span, its first search
    and the first use of an asset after it; time to find reads these instead of walking the log."""

    __tablename__ = "work_session"
    __table_args__ = {"sqlite_with_rowid": False}  # a user's sessions are one range of the key

    user_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    started_at: Mapped[datetime] = mapped_column(primary_key=True)
    ended_at: Mapped[datetime]
    searched_at: Mapped[datetime | None]
    team_id: Mapped[int | None]  # the team on the first search's event
    found_at: Mapped[datetime | None]
    asset_id: Mapped[int | None]
    searched_week: Mapped[str | None] = mapped_column(String(8))  # the first search's ISO week, like 2026-W47,
    minutes: Mapped[float | None]  # and the minutes to find: all time to find reads of a session
    mixed_teams: Mapped[bool] = mapped_column(default=False)  # its events do not all carry one team
    first_team_id: Mapped[int | None]  # the team on its first event: what later events are compared with
