"""Deal rooms, the rep's side: who manages a deal's room, making and editing it, its items in order.

A room lives while its deal's owner is active and it is neither revoked nor expired. Each item is
shown to the buyer only while a prospect may see it: an asset that is archived, set back to draft,
expired or made internal after it was added (or a document made from one) drops out of the room
and its pages answer 404, exactly as a share link of it would end.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select, true
from sqlalchemy.exc import IntegrityError

from app import usage
from app.database import transaction
from app.deals import records
from app.documents import generate
from app.extensions import db
from app.library import assets
from app.models import Asset, DealRoom, DealRoomItem, GeneratedDocument, Opportunity, Role, utcnow
from app.sharing import links

TOKEN_BYTES = 32  # 256 bits, URL-safe base64: 43 characters, as share links
MAX_ITEMS = 20
MAX_MESSAGE = 2000
ACTION = "put in a deal room"
PHONE = re.compile(r"^[0-9+()./ -]{0,40}$")


class RoomError(ValueError):
    """A user-facing reason why a room cannot be made or changed."""


@dataclass
class RoomData:
    """What the rep writes on a room: its title, note, phone, call to action and expiry day."""

    title: str
    message: str = ""
    contact_phone: str = ""
    cta_label: str = ""
    cta_url: str = ""
    expires_on: date | None = None


# --- who manages which room ------------------------------------------------------------------------

def may_manage(user, deal: Opportunity) -> bool:
    """The deal's owner, their team's manager and admins manage its room; nobody else sees it."""
    if not getattr(user, "is_authenticated", False) or deal.owner is None:
        return False
    if user.has_role(Role.ADMIN) or deal.owner_id == user.id:
        return True
    return user.has_role(Role.MANAGER) and user.team_id is not None and deal.owner.team_id == user.team_id


def managed_deal(user, opportunity_id: int | None) -> Opportunity | None:
    deal = records.own_opportunity(user, opportunity_id)
    return deal if deal is not None and may_manage(user, deal) else None


def managed_room(user, room_id: int | None) -> DealRoom | None:
    room = db.session.get(DealRoom, room_id) if room_id else None
    return room if room is not None and may_manage(user, room.opportunity) else None


def room_of(deal: Opportunity) -> DealRoom | None:
    return db.session.scalar(select(DealRoom).where(DealRoom.opportunity_id == deal.id))


def by_token(token: str) -> DealRoom | None:
    if not token or len(token) > 64:
        return None
    return db.session.scalar(select(DealRoom).where(DealRoom.token == token))


# --- what a room shows -----------------------------------------------------------------------------

def why_not_live(room: DealRoom) -> str | None:
    """Why the room no longer opens, as its rep should read it; None while it is live."""
    if room.revoked_at is not None:
        return f"Revoked on {room.revoked_at:%Y-%m-%d}."
    if room.expires_at is not None and room.expires_at <= utcnow():
        return f"Expired on {room.expires_at:%Y-%m-%d}."
    if not room.user.active:
        return "Its rep's account was deactivated."
    return None


def item_refusal(item: DealRoomItem) -> str | None:
    """Why a buyer may not see this item now (deleted, internal, archived, expired…), or None."""
    if item.asset is None and item.document is None:
        return "What it showed was deleted."
    parts = [item.asset] if item.asset is not None else links.document_assets(item.document)
    if item.document is not None and item.document.asset_id is None and "kit" not in item.document.values:
        return "The asset this document was made from was deleted."
    for asset in parts:
        if reason := links.asset_gone(asset):
            return reason
    return None


def live_items(room: DealRoom) -> list[DealRoomItem]:
    """The items a buyer sees, in the rep's order."""
    return [item for item in room.items if item_refusal(item) is None]


def live_item(room: DealRoom, item_id: int | None) -> DealRoomItem | None:
    return next((item for item in live_items(room) if item.id == item_id), None)


def title_of(item: DealRoomItem) -> str:
    if item.document is not None:
        return item.document.title
    return item.asset.title if item.asset is not None else "Deleted item"


def buyer_title_of(item: DealRoomItem) -> str:
    """What the buyer sees the item called (a pitch kit: its cover's title)."""
    return item.document.buyer_title if item.document is not None else title_of(item)


def item_asset_id(item: DealRoomItem) -> int | None:
    """The asset an item's events count for (a customized document counts for its asset)."""
    if item.asset_id:
        return item.asset_id
    return item.document.asset_id if item.document is not None else None


def candidates(user, deal: Opportunity, recommended: list[Asset]) -> tuple[list[Asset], list[GeneratedDocument]]:
    """What the rep may put in the deal's room: customer-facing live assets (recommended ones first,
    then the library by title) and the deal owner's own documents."""
    first = [a for a in recommended if not a.is_internal]
    rest = db.session.scalars(assets.visible_to(user, select(Asset).where(
        Asset.audience != "internal", Asset.id.notin_([a.id for a in first]) if first else true()))
        .where(assets.live_clause()).order_by(Asset.title).limit(300))
    documents = generate.documents_of(deal.owner, limit=50) if deal.owner is not None else []
    return first + list(rest), [d for d in documents if links.refusal(document=d) is None]


# --- the rep's changes -----------------------------------------------------------------------------

def clean(data: RoomData) -> RoomData:
    """The room's text, trimmed and checked; RoomError says what to fix."""
    title, message = data.title.strip(), data.message.strip()
    phone, label, url = data.contact_phone.strip(), data.cta_label.strip(), data.cta_url.strip()
    if not title or len(title) > 200:
        raise RoomError("Give the room a title (at most 200 characters).")
    if len(message) > MAX_MESSAGE:
        raise RoomError(f"Keep the note under {MAX_MESSAGE} characters.")
    if not PHONE.match(phone):
        raise RoomError("The phone number may hold digits, spaces, +, -, ( ) and dots (at most 40).")
    if bool(label) != bool(url):
        raise RoomError("A call to action needs both a label and a web address (or neither).")
    if len(label) > 80:
        raise RoomError("Keep the call to action's label under 80 characters.")
    if url:
        parts = urlsplit(url)
        if (parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 500
                or any(c.isspace() or ord(c) < 32 for c in url)):
            raise RoomError("The call to action's address must start with https:// (or http://).")
    if data.expires_on is not None and data.expires_on <= utcnow().date():
        raise RoomError("The expiry date must be after today.")
    return RoomData(title, message, phone, label, url, data.expires_on)


def _expiry(day: date | None) -> datetime | None:
    """A room expires at the end of its expiry day (UTC)."""
    return datetime.combine(day + timedelta(days=1), time()) if day else None


def parse_pick(value: str) -> tuple[str, int] | None:
    """"asset:12" or "document:3" from the room forms' checkboxes and selects; None otherwise."""
    kind, _, number = (value or "").partition(":")
    if kind not in ("asset", "document") or not number.isdigit() or len(number) > 12:
        return None
    return kind, int(number)


def _resolve(user, deal: Opportunity, picks: list[str]) -> list[tuple[Asset | None, GeneratedDocument | None]]:
    """The assets and documents `picks` name, each checked: visible, customer-facing, the owner's own."""
    found = []
    for value in picks:
        pick = parse_pick(value)
        if pick is None:
            raise RoomError("Choose assets and documents from the list.")
        kind, number = pick
        if kind == "asset":
            asset = assets.visible_asset(user, number)
            if asset is None:
                raise RoomError("One of the chosen assets is not available.")
            item = (asset, None)
        else:
            document = generate.own_document(deal.owner, number) if deal.owner is not None else None
            if document is None:
                raise RoomError("Only the deal owner's own documents can go in its room.")
            item = (None, document)
        if reason := links.refusal(*item):
            raise RoomError(reason.replace("shared with a prospect", ACTION))
        if asset_gone := (links.asset_gone(item[0]) if item[0] is not None else None):
            raise RoomError(asset_gone)
        found.append(item)
    return found


def _log_sent(actor, room: DealRoom, items: list[DealRoomItem], at: datetime | None = None) -> None:
    for item in items:
        usage.log_event("share", user=actor, asset=item_asset_id(item), opportunity=room.opportunity_id,
                        room_id=room.id, account=room.opportunity.account.name, at=at)


def create_room(actor, deal: Opportunity, data: RoomData, picks: list[str], at: datetime | None = None) -> DealRoom:
    """The deal's room with the chosen items in order; each item is logged as sent in the deal (`at`:
    now, unless the demo's history says when)."""
    if not may_manage(actor, deal):
        raise RoomError("Only the deal's owner, their manager or an admin can make its room.")
    if not deal.is_open:
        raise RoomError("This deal is closed: rooms are for open deals.")
    if room_of(deal) is not None:
        raise RoomError("This deal already has a room: edit it instead.")
    data = clean(data)
    chosen = _resolve(actor, deal, list(dict.fromkeys(picks)))
    if not chosen:
        raise RoomError("Choose at least one asset or document for the room.")
    if len(chosen) > MAX_ITEMS:
        raise RoomError(f"A room holds at most {MAX_ITEMS} items.")
    try:
        with transaction():
            room = DealRoom(token=secrets.token_urlsafe(TOKEN_BYTES), opportunity_id=deal.id, user_id=deal.owner_id,
                            title=data.title, message=data.message, contact_phone=data.contact_phone,
                            cta_label=data.cta_label, cta_url=data.cta_url, expires_at=_expiry(data.expires_on),
                            created_at=at or utcnow())
            room.items = [DealRoomItem(position=n, asset_id=a.id if a else None, document_id=d.id if d else None)
                          for n, (a, d) in enumerate(chosen)]
            db.session.add(room)
    except IntegrityError as error:  # another tab made the deal's room a moment ago
        raise RoomError("This deal already has a room: edit it instead.") from error
    _log_sent(actor, room, room.items, at)
    return room


def update_room(actor, room: DealRoom, data: RoomData) -> None:
    data = clean(data)
    with transaction():
        room.title, room.message, room.contact_phone = data.title, data.message, data.contact_phone
        room.cta_label, room.cta_url, room.expires_at = data.cta_label, data.cta_url, _expiry(data.expires_on)


def add_items(actor, room: DealRoom, picks: list[str]) -> int:
    """Add the chosen items at the end (ones already in the room are skipped); returns how many."""
    chosen = _resolve(actor, room.opportunity, list(dict.fromkeys(picks)))
    have = {(i.asset_id, i.document_id) for i in room.items}
    new = [(a, d) for a, d in chosen if (a.id if a else None, d.id if d else None) not in have]
    if len(room.items) + len(new) > MAX_ITEMS:
        raise RoomError(f"A room holds at most {MAX_ITEMS} items.")
    with transaction():
        start = max((i.position for i in room.items), default=-1) + 1
        added = [DealRoomItem(position=start + n, asset_id=a.id if a else None, document_id=d.id if d else None)
                 for n, (a, d) in enumerate(new)]
        room.items.extend(added)
    _log_sent(actor, room, added)
    return len(added)


def _item(room: DealRoom, item_id: int) -> DealRoomItem:
    item = next((i for i in room.items if i.id == item_id), None)
    if item is None:
        raise LookupError(item_id)
    return item


def remove_item(room: DealRoom, item_id: int) -> str:
    """Take an item out of the room; returns its title. LookupError when the room has no such item."""
    item = _item(room, item_id)
    title = title_of(item)
    with transaction():
        room.items.remove(item)
    return title


def move_item(room: DealRoom, item_id: int, step: int) -> bool:
    """Move an item one place up (-1) or down (+1); False when it is already first or last."""
    item = _item(room, item_id)
    ordered = list(room.items)
    at = ordered.index(item)
    to = at + step
    if step not in (-1, 1) or not 0 <= to < len(ordered):
        return False
    ordered[at], ordered[to] = ordered[to], ordered[at]
    with transaction():
        for position, each in enumerate(ordered):
            each.position = position
    db.session.expire(room, ["items"])
    return True


def revoke(room: DealRoom) -> None:
    with transaction():
        room.revoked_at = room.revoked_at or utcnow()


def reopen(room: DealRoom) -> None:
    with transaction():
        room.revoked_at = None
