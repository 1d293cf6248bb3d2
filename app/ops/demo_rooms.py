"""Demo deal rooms: a few open demo deals get a room made through the rooms service, and buyers who
visit, read and download over the last days (through the same visit functions the buyer's pages use),
so the deal page shows a room's activity and its rep has the alerts."""
from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from app import usage
from app.extensions import db
from app.models import Asset, Opportunity, User, utcnow
from app.rooms import service, visits
from app.sharing import links

ROOMS = 5
NOTES = ["Everything we discussed on our call, in one place. The ROI summary has the figures for your team.",
         "As promised: the overview for your committee, and the case study from a team your size.",
         "Here is what we walked through today. I have put the pages your CFO asked about first."]
CALLS = [("Book the technical review", "https://cal.example.com/review"),
         ("Schedule the pilot kickoff", "https://cal.example.com/pilot")]


def seed_rooms(rng: random.Random) -> int:
    """Rooms on the first open demo deals of distinct reps, with buyer visits; returns the events logged."""
    paged = [a for a in db.session.scalars(
        select(Asset).where(Asset.audience != "internal", Asset.status == "published").order_by(Asset.title))
        if links.pages_of(a, None) is not None and links.asset_gone(a) is None]
    if len(paged) < 2:
        return 0
    deals, owners = [], set()
    open_deals = select(Opportunity).where(Opportunity.status == "open", Opportunity.stage_id.isnot(None))
    for deal in db.session.scalars(open_deals.order_by(Opportunity.close_date, Opportunity.id)):
        if deal.owner_id not in owners and deal.owner is not None and deal.owner.active:
            deals.append(deal)
            owners.add(deal.owner_id)
        if len(deals) == ROOMS:
            break
    logged = 0
    for n, deal in enumerate(deals):
        picks = [f"asset:{a.id}" for a in rng.sample(paged, min(len(paged), rng.randint(2, 3)))]
        label, url = CALLS[n % len(CALLS)]
        room = service.create_room(deal.owner, deal, service.RoomData(
            f"{deal.account.name}: your evaluation"[:200], NOTES[n % len(NOTES)], f"+1 555 01{n:02d}", label, url),
            picks, at=utcnow() - timedelta(days=7))  # sent before the buyers' visits of the last six days
        logged += len(picks) + _buyer_visits(room, deal.owner, rng, n)
    usage.flush()
    return logged


def _buyer_visits(room, owner: User, rng: random.Random, n: int) -> int:
    """One or two buyers visiting over the last week (none for the last room: not opened yet)."""
    if n == ROOMS - 1:
        return 0
    events, path = 0, f"/deals/{room.opportunity_id}#room"
    for buyer in range(rng.randint(1, 2)):
        visit = links.Visitor(links.viewer_key(f"198.51.100.{10 * n + buyer}", "Demo buyer browser"), False)
        at = utcnow() - timedelta(days=rng.uniform(1, 6), hours=rng.randint(0, 8))
        for _ in range(rng.randint(1, 3)):
            visits.open_room(room, visit, path, at=at)
            events += 1
            for item in service.live_items(room)[:rng.randint(1, 2)]:
                at += timedelta(seconds=rng.randint(5, 40))
                visits.open_room(room, visit, path, item, at=at)
                events += 1
                for page in range(1, min(visits.page_count(item), rng.randint(2, 5)) + 1):
                    visits.record_page_time(room, item, visit, page, rng.uniform(4, 60), at=at)
                    events += 1
                if rng.random() < 0.3:
                    visits.download(room, item, visit, at=at)
                    events += 1
            at += timedelta(hours=rng.uniform(20, 40))
            if at >= utcnow():
                break
    return events
