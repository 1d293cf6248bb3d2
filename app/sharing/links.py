"""Share links: one asset or document for one prospect, tracked, expiring, revocable.

A link lives only while its content may be seen: not after it is revoked or expires, nor once the
asset is archived, set back to draft, expires or becomes internal, its file is replaced or deleted,
or its sender is deactivated (`why_not_live` says which, for the sender's list). Public views never
log the viewer's IP in clear: a keyed hash tells repeat visits apart. Opens by the link's own
sender (logged in) do not count.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import usage
from app.database import transaction
from app.extensions import db
from app.files import pages, storage
from app.library import assets, prospects
from app.models import SHARE_CALLS_TO_ACTION, Asset, AssetStatus, GeneratedDocument, ShareLink, UsageEvent, utcnow
from app.notifications import service as notifications

TOKEN_BYTES = 32  # 256 bits, URL-safe base64: 43 characters
EXPIRY_CHOICES = {"7": "In 7 days", "30": "In 30 days", "90": "In 90 days", "": "Never"}
MAX_PAGE_SECONDS = 3600
MAX_MESSAGE = 2000
ACTION = "shared with a prospect"


class ShareError(ValueError):
    """A user-facing reason why a link cannot be made or used."""


def refusal(asset: Asset | None = None, document: GeneratedDocument | None = None) -> str | None:
    """Why this asset or document may not be shared with a prospect (it is, or holds, internal
    content; an asset that is customizable goes out as the document made from it), or None."""
    if asset is not None:
        return prospects.refusal_to_send(asset, ACTION)
    if document is not None:
        for part in document_assets(document):
            if reason := prospects.refusal_for_prospects(part, ACTION):
                return reason
    return None


def document_assets(document: GeneratedDocument) -> list[Asset]:
    """The assets a document was made from: its template's, or a pitch kit's parts."""
    if document.asset is not None:
        return [document.asset]
    return assets.load_in_order(document.values.get("kit", []))


def create_link(user, *, asset: Asset | None = None, document: GeneratedDocument | None = None,
                recipient_name: str = "", recipient_email: str = "", account: str = "",
                expires_at: datetime | None = None, allow_download: bool = True, message: str = "",
                cta: str = "reply", meeting_url: str = "", opportunity=None) -> ShareLink:
    """A tracked link to one asset or one of the user's documents; logged as a share (in the deal
    `opportunity`, one of the user's open deals, when given: its account names the link's)."""
    if (asset is None) == (document is None):
        raise ShareError("Share one asset or one document.")
    if document is not None and document.user_id != user.id:
        raise ShareError("You can only share your own documents.")
    if reason := refusal(asset, document):
        raise ShareError(reason)
    if expires_at is not None and expires_at <= utcnow():
        raise ShareError("The expiry date is in the past.")
    cta, meeting_url = clean_call_to_action(cta, meeting_url)
    if len(message.strip()) > MAX_MESSAGE:
        raise ShareError(f"Keep the message under {MAX_MESSAGE} characters.")
    with transaction():
        link = ShareLink(token=secrets.token_urlsafe(TOKEN_BYTES), user_id=user.id,
                         asset_id=asset.id if asset else None, document_id=document.id if document else None,
                         version_id=asset.current_version.id if asset and asset.current_version else None,
                         recipient_name=recipient_name.strip()[:120], recipient_email=recipient_email.strip()[:254],
                         account=(account or (document.account if document else "")
                                  or (opportunity.account.name if opportunity else "")).strip()[:120],
                         expires_at=expires_at, allow_download=allow_download, message=message.strip(),
                         cta=cta, meeting_url=meeting_url, opportunity_id=opportunity.id if opportunity else None)
        db.session.add(link)
    usage.log_event("share", user=user, asset=shared_asset_id(link), share_id=link.id, account=link.account or None,
                    opportunity=opportunity)
    return link


def clean_call_to_action(cta: str, meeting_url: str) -> tuple[str, str]:
    """The prospect's next step: reply by email, or book a meeting at an http(s) address."""
    cta = cta or "reply"
    if cta not in SHARE_CALLS_TO_ACTION:
        raise ShareError(f"The next step must be one of: {', '.join(SHARE_CALLS_TO_ACTION.values())}.")
    if cta == "reply":
        return cta, ""
    url = meeting_url.strip()
    if not url:
        raise ShareError("“Book a meeting” needs your booking link (for example https://cal.example/riley), "
                         "or choose “Reply by email”.")
    parts = urlsplit(url)
    if (parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 500
            or any(c.isspace() or ord(c) < 32 for c in url)):
        raise ShareError("The meeting link must be a web address starting with https:// (or http://).")
    return cta, url


def expiry_from_choice(choice: str) -> datetime | None:
    return utcnow() + timedelta(days=int(choice)) if choice in ("7", "30", "90") else None


def by_token(token: str) -> ShareLink | None:
    if not token or len(token) > 64:
        return None
    return db.session.scalar(select(ShareLink).where(ShareLink.token == token))


def own_link(user, link_id: int) -> ShareLink | None:
    """The user's own link (others' links do not exist for them)."""
    link = db.session.get(ShareLink, link_id)
    return link if link is not None and link.user_id == user.id else None


def own_link_by_token(user, token: str) -> ShareLink | None:
    link = by_token(token)
    return link if link is not None and link.user_id == user.id else None


def why_not_live(link: ShareLink) -> str | None:
    """Why the link no longer opens, as its sender should read it; None while it is live."""
    if link.revoked_at is not None:
        return f"Revoked on {link.revoked_at:%Y-%m-%d}."
    if link.expires_at is not None and link.expires_at <= utcnow():
        return f"Expired on {link.expires_at:%Y-%m-%d}."
    if not link.user.active:
        return "Its sender's account was deactivated."
    if link.asset is None and link.document is None:
        return "What it showed was deleted."
    if link.document is not None and link.document.asset_id is None and "kit" not in link.document.values:
        return "The asset this document was made from was deleted."
    if link.document is not None and len(document_assets(link.document)) < len(link.document.values.get("kit", [])):
        return "An asset in this pitch kit was deleted."
    for asset in [link.asset] if link.asset is not None else document_assets(link.document):
        if reason := asset_gone(asset):
            return reason
    if link.asset is not None and link.version_id != (link.asset.current_version.id
                                                      if link.asset.current_version else None):
        current = link.asset.current_version
        return (f"Its file was replaced by version {current.number}: share it again." if current
                else "Its file was deleted.")
    return None


def asset_gone(asset: Asset) -> str | None:
    """Why an asset may no longer be seen by prospects, or None."""
    if asset.status == AssetStatus.ARCHIVED.value:
        return f"“{asset.title}” was archived."
    if asset.status == AssetStatus.DRAFT.value:
        return f"“{asset.title}” was set back to draft."
    if asset.expires_on is not None and asset.expires_on < assets.today():
        return f"“{asset.title}” expired on {asset.expires_on:%Y-%m-%d}."
    if asset.is_internal:
        return f"“{asset.title}” is now internal only."
    return None


def is_live(link: ShareLink) -> bool:
    return why_not_live(link) is None


def revoke(link: ShareLink) -> None:
    with transaction():
        link.revoked_at = link.revoked_at or utcnow()


def links_of(user) -> list[ShareLink]:
    return list(db.session.scalars(
        select(ShareLink).where(ShareLink.user_id == user.id)
        .options(selectinload(ShareLink.asset).selectinload(Asset.versions),
                 selectinload(ShareLink.document).selectinload(GeneratedDocument.asset))
        .order_by(ShareLink.created_at.desc(), ShareLink.id.desc())))


def title_of(link: ShareLink) -> str:
    if link.document is not None:
        return link.document.title
    return link.asset.title if link.asset is not None else "Deleted item"


def buyer_title(link: ShareLink) -> str:
    """What the prospect sees the link's item called (a pitch kit: its cover's title)."""
    return link.document.buyer_title if link.document is not None else title_of(link)


def shared_asset_id(link: ShareLink) -> int | None:
    """The asset a link's events count for (a customized document counts for its asset)."""
    if link.asset_id:
        return link.asset_id
    return link.document.asset_id if link.document is not None else None


def shared_pages(link: ShareLink) -> tuple[Path, int] | None:
    """(path, page count) of the PDF whose pages the link shows (`pages_of` its content)."""
    return pages_of(link.asset, link.document)


def pages_of(asset: Asset | None, document: GeneratedDocument | None) -> tuple[Path, int] | None:
    """(path, page count) of the PDF a prospect pages through for an asset or a document: the
    document, an asset's PDF, or a deck's or document's converted preview; None when there are none
    (share links and deal rooms show the same pages)."""
    if document is not None:
        return storage.path_of(document.stored_name), document.page_count
    version = asset.current_version if asset is not None else None
    if version is not None and version.pages_name and version.page_count:
        return storage.path_of(version.pages_name), version.page_count
    return None


def page_count(link: ShareLink) -> int:
    found = shared_pages(link)
    return found[1] if found else 0


def shared_file(link: ShareLink) -> tuple[Path, str, str] | None:
    """(path, download name, mime type) of what a download gives, if anything."""
    return file_of(link.asset, link.document)


def file_of(asset: Asset | None, document: GeneratedDocument | None) -> tuple[Path, str, str] | None:
    """(path, download name, mime type) of an asset's current file or a document's PDF, if any."""
    if document is not None:
        return storage.path_of(document.stored_name), document.file_name, "application/pdf"
    version = asset.current_version if asset is not None else None
    if version is None:
        return None
    return storage.path_of(version.stored_name), version.original_filename, version.mime_type


@dataclass(frozen=True)
class Visitor:
    """Who is on a public link: its sender (logged in, never counted) or a prospect, known only by a
    keyed hash of address and browser, so repeat visits match but no IP is stored."""

    viewer: str
    is_sender: bool


def visitor(link: ShareLink, user, remote_addr: str, user_agent: str) -> Visitor:
    return Visitor(viewer_key(remote_addr, user_agent),
                   bool(getattr(user, "is_authenticated", False) and user.id == link.user_id))


def viewer_key(remote_addr: str, user_agent: str) -> str:
    """A prospect's keyed hash of address and browser (share links and deal rooms tell visits apart by it)."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{remote_addr}|{user_agent}".encode(), hashlib.sha256).hexdigest()[:16]


def _log_visit(kind: str, link: ShareLink, visit: Visitor, **context) -> None:
    if not visit.is_sender:
        usage.log_event(kind, asset=shared_asset_id(link), share_id=link.id, viewer=visit.viewer,
                        opportunity=link.opportunity_id, **context)


def open_link(link: ShareLink, visit: Visitor, detail_url: str) -> None:
    """A prospect opened the link: logged, and the first time its sender is told (`detail_url` is
    the link's page, where the notification leads)."""
    _log_visit("share_open", link, visit)
    if not visit.is_sender:
        _notify_first_open(link, detail_url)


def record_page_time(link: ShareLink, visit: Visitor, page: int, seconds: float) -> None:
    """Time a prospect's browser reports on one page (it reports every 15 s while the page shows).

    Refused (ShareError) unless the shared PDF has that page and the time is in (0, MAX_PAGE_SECONDS]:
    the owner's page must not show page 4,999 of a 3-page PDF, or an hour it was not read.
    """
    if not 1 <= page <= page_count(link):
        raise ShareError("This document has no such page.")
    if not 0 < seconds <= MAX_PAGE_SECONDS:
        raise ShareError(f"Seconds must be more than 0 and at most {MAX_PAGE_SECONDS}.")
    _log_visit("share_page", link, visit, page=page, seconds=round(seconds, 1))


def download(link: ShareLink, visit: Visitor) -> tuple[Path, str, str] | None:
    """(path, download name, mime type) of the shared file, logged; None when the link gives none."""
    found = shared_file(link) if link.allow_download else None
    if found is not None:
        _log_visit("share_download", link, visit)
    return found


def page_image(link: ShareLink, number: int, width: int) -> Path | None:
    """Page `number` (from 1) of what the link shows, as a PNG, rendered once (within bounds) and kept."""
    return page_png(shared_pages(link), number, width)


def page_png(source: tuple[Path, int] | None, number: int, width: int) -> Path | None:
    """Page `number` (from 1) of a `pages_of` PDF as a PNG, or None when it has no such page."""
    if source is None or not 1 <= number <= source[1]:
        return None
    try:
        return pages.page_png(source[0], number - 1, width, current_app.config["DATA_DIR"] / "page-cache")
    except pages.PageError:
        return None


def _notify_first_open(link: ShareLink, url: str) -> bool:
    """Mark the link opened; the first time, tell its sender. Returns whether this was the first."""
    with transaction():
        first = db.session.execute(
            ShareLink.__table__.update().where(ShareLink.id == link.id, ShareLink.first_opened_at.is_(None))
            .values(first_opened_at=utcnow())).rowcount == 1
        if first:
            who = link.recipient_name or link.recipient_email or "Your prospect"
            where = f" ({link.account})" if link.account else ""
            notifications.notify(link.user_id, f"{who}{where} opened “{title_of(link)}”.", url,
                                 kind="share_open")
    return first


@dataclass
class Activity:
    opens: int = 0
    downloads: int = 0
    last_opened_at: datetime | None = None
    pages: dict[int, float] = field(default_factory=dict)  # page → seconds viewed
    events: list[UsageEvent] = field(default_factory=list)

    @property
    def opened(self) -> bool:
        return self.opens > 0


def activity(links: list[ShareLink]) -> dict[int, Activity]:
    """What prospects did with each link, from the usage log."""
    result = {link.id: Activity() for link in links}
    if not links:
        return result
    share_id = UsageEvent.context["share_id"].as_integer()
    rows = db.session.scalars(
        select(UsageEvent).where(UsageEvent.kind.in_(("share_open", "share_page", "share_download")),
                                 share_id.in_(list(result)))
        .order_by(UsageEvent.created_at))
    for event in rows:
        item = result[event.context["share_id"]]
        item.events.append(event)
        if event.kind == "share_open":
            item.opens += 1
            item.last_opened_at = event.created_at
        elif event.kind == "share_download":
            item.downloads += 1
        else:
            page = int(event.context.get("page", 0))
            item.pages[page] = item.pages.get(page, 0) + float(event.context.get("seconds", 0))
    return result
