"""Deal rooms, the buyer's side: visits tracked as share links track theirs, and the rep's alerts.

Every buyer open (the room, or one of its items), page time and download is a usage event of the
share kinds (share_open / share_page / share_download) carrying the room's deal as `opportunity_id`
and `room_id` (and `item_id`) in its context, with the same keyed visitor hash as share links. The
room's owner, their manager and admins previewing it (logged in) are never counted.

Alerts: the room's rep is told through `notify(kind="room_visit")` (in-app, and mailed at once by default:
the rep's notification preferences decide; no SMTP, no mail) on a buyer's first
visit, and on a visit after a quiet period with no buyer visit (`ROOM_QUIET_HOURS`, default 24).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import or_, select

from app import usage
from app.database import transaction
from app.extensions import db
from app.models import DealRoom, DealRoomItem, UsageEvent, utcnow
from app.notifications import service as notifications
from app.rooms import service
from app.sharing import links

BUYER_KINDS = ("share_open", "share_page", "share_download")


def visitor(room: DealRoom, user, remote_addr: str, user_agent: str) -> links.Visitor:
    """Who is in the room: someone who manages it (logged in, never counted) or a buyer."""
    return links.Visitor(links.viewer_key(remote_addr, user_agent), service.may_manage(user, room.opportunity))


def _log(kind: str, room: DealRoom, visit: links.Visitor, item: DealRoomItem | None = None,
         at: datetime | None = None, **context) -> None:
    if not visit.is_sender:
        usage.log_event(kind, asset=service.item_asset_id(item) if item else None, opportunity=room.opportunity_id,
                        at=at, viewer=visit.viewer, room_id=room.id, item_id=item.id if item else None, **context)


def open_room(room: DealRoom, visit: links.Visitor, deal_path: str, item: DealRoomItem | None = None,
              at: datetime | None = None) -> bool:
    """A buyer opened the room (or, with `item`, one of its items): logged, and the rep alerted on
    the first visit or after a quiet period (`deal_path`: where the alert leads; `at`: now, unless
    the demo's history says when). Returns whether an alert went out."""
    if visit.is_sender:
        return False
    now = at or utcnow()
    _log("share_open", room, visit, item, at=now)
    return _visited(room, deal_path, now)


def record_page_time(room: DealRoom, item: DealRoomItem, visit: links.Visitor, page: int, seconds: float,
                     at: datetime | None = None) -> None:
    """Time the buyer's browser reports on one page of an item (links.record_page_time's bounds)."""
    found = links.pages_of(item.asset, item.document)
    if not 1 <= page <= (found[1] if found else 0):
        raise links.ShareError("This document has no such page.")
    if not 0 < seconds <= links.MAX_PAGE_SECONDS:
        raise links.ShareError(f"Seconds must be more than 0 and at most {links.MAX_PAGE_SECONDS}.")
    _log("share_page", room, visit, item, at=at, page=page, seconds=round(seconds, 1))


def download(room: DealRoom, item: DealRoomItem, visit: links.Visitor,
             at: datetime | None = None) -> tuple[Path, str, str] | None:
    """(path, name, mime type) of the item's file, logged; None when it has none."""
    found = links.file_of(item.asset, item.document)
    if found is not None:
        _log("share_download", room, visit, item, at=at)
    return found


def page_image(item: DealRoomItem, number: int, width: int) -> Path | None:
    return links.page_png(links.pages_of(item.asset, item.document), number, width)


def page_count(item: DealRoomItem) -> int:
    found = links.pages_of(item.asset, item.document)
    return found[1] if found else 0


def quiet_period() -> timedelta:
    return timedelta(hours=float(current_app.config.get("ROOM_QUIET_HOURS", 24)))


def _visited(room: DealRoom, deal_path: str, now: datetime) -> bool:
    """Mark the buyer's visit; on the first one, or the first after a quiet period, alert the rep.

    One conditional UPDATE decides, so two buyers arriving together alert once."""
    table = DealRoom.__table__
    with transaction():
        first = db.session.execute(table.update().where(table.c.id == room.id, table.c.first_visit_at.is_(None))
                                   .values(first_visit_at=now, last_visit_at=now, alerted_at=now)).rowcount == 1
        back = not first and db.session.execute(
            table.update().where(table.c.id == room.id, or_(table.c.last_visit_at.is_(None),
                                                            table.c.last_visit_at <= now - quiet_period()))
            .values(last_visit_at=now, alerted_at=now)).rowcount == 1
        if not (first or back):
            db.session.execute(table.update().where(table.c.id == room.id).values(last_visit_at=now))
        if first or back:
            notifications.notify(room.user_id, _alert_line(room, first), deal_path, kind="room_visit")
    db.session.expire(room)
    return first or back


def _alert_line(room: DealRoom, first: bool) -> str:
    deal = room.opportunity
    what = "A buyer opened" if first else "A buyer is back in"
    named = "" if room.title.strip().casefold() == deal.name.strip().casefold() else f" ({deal.name})"
    return f"{what} your deal room “{room.title}”{named}"


# --- what buyers did, for the deal page --------------------------------------------------------------

@dataclass
class Visit:
    """A buyer's visit: an open of the room page and what they did until they had been away longer than
    a working session's gap (`usage.SESSION_GAP`, 30 minutes) and opened it again."""

    at: datetime
    visitor: str  # "Visitor 1", "Visitor 2"… in order of first appearance
    items: list[str] = field(default_factory=list)
    pages: int = 0  # distinct (item, page) pairs read
    seconds: float = 0.0
    downloads: int = 0
    read: set[tuple[int, int]] = field(default_factory=set, repr=False)


@dataclass
class ItemActivity:
    opens: int = 0
    pages: set[int] = field(default_factory=set)
    seconds: float = 0.0
    downloads: int = 0


@dataclass
class RoomActivity:
    visits: list[Visit] = field(default_factory=list)  # newest first
    visitors: int = 0
    items: dict[int, ItemActivity] = field(default_factory=dict)  # item id → what buyers did with it

    @property
    def downloads(self) -> int:
        return sum(i.downloads for i in self.items.values())

    @property
    def pages_viewed(self) -> int:
        return sum(len(i.pages) for i in self.items.values())


def activity(room: DealRoom) -> RoomActivity:
    """Buyers' visits to the room and what they read and downloaded, from the usage log."""
    events = db.session.scalars(
        select(UsageEvent).where(UsageEvent.kind.in_(BUYER_KINDS), UsageEvent.opportunity_id == room.opportunity_id,
                                 UsageEvent.context["room_id"].as_integer() == room.id)
        .order_by(UsageEvent.created_at, UsageEvent.id))
    titles = {item.id: service.title_of(item) for item in room.items}
    result, labels, current, last_seen = RoomActivity(), {}, {}, {}
    for event in events:
        viewer = event.context.get("viewer", "")
        label = labels.setdefault(viewer, f"Visitor {len(labels) + 1}")
        item_id = event.context.get("item_id")
        previous, last_seen[viewer] = last_seen.get(viewer), event.created_at
        if event.kind == "share_open" and item_id is None:
            # Back on the room's page within a working session (usage.SESSION_GAP) is the same visit: a
            # buyer going from one item to the next, whose page times arrive after the room reopens.
            if previous is None or event.created_at - previous > usage.SESSION_GAP or viewer not in current:
                current[viewer] = Visit(event.created_at, label)
                result.visits.append(current[viewer])
            continue
        item = result.items.setdefault(item_id, ItemActivity())
        visit = current.get(viewer)
        if event.kind == "share_open":
            item.opens += 1
            if visit is not None and titles.get(item_id) and titles[item_id] not in visit.items:
                visit.items.append(titles[item_id])
        elif event.kind == "share_download":
            item.downloads += 1
            if visit is not None:
                visit.downloads += 1
        else:
            page, seconds = int(event.context.get("page", 0)), float(event.context.get("seconds", 0))
            if visit is not None:
                visit.read.add((item_id, page))
                visit.pages = len(visit.read)
                visit.seconds += seconds
            item.pages.add(page)
            item.seconds += seconds
    result.visitors = len(labels)
    result.visits.reverse()
    return result
