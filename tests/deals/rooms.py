"""Helpers for the deal-room tests: a deal with assets, a room made through the rep's form, the log."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import DealRoom, UsageEvent
from tests.conftest import post_form

BUYER = {"REMOTE_ADDR": "203.0.113.9"}


def make_room(client, deal, items, **fields) -> DealRoom:
    """The deal's room, made by `client` through the form, with `items` (assets or ("document", doc)) ticked."""
    picks = [f"document:{i[1].id}" if isinstance(i, tuple) else f"asset:{i.id}" for i in items]
    data = {"title": "Acme Health: your evaluation", "message": "Everything from Tuesday.\nPage 2 has the figures.",
            "contact_phone": "+1 555 0100", "cta_label": "Book the technical review",
            "cta_url": "https://cal.example.com/riley", "expires_on": "", "item": picks, **fields}
    response = post_form(client, f"/deals/{deal.id}/room/new", data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return db.session.scalar(select(DealRoom).where(DealRoom.opportunity_id == deal.id))


def buyer_events(kind: str | None = None) -> list[UsageEvent]:
    kinds = (kind,) if kind else ("share_open", "share_page", "share_download")
    return list(db.session.scalars(select(UsageEvent).where(UsageEvent.kind.in_(kinds)).order_by(UsageEvent.id)))
