"""The rep's deal workspace: their open deals with what was already sent in each, and one deal's page."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from app.deals import records
from app.extensions import db
from app.library import assets
from app.models import Asset, Opportunity, UsageEvent, User
from app.usage import SENT_KINDS

KIND_VERBS = {"share": "Shared", "customize": "Customized or in a kit", "rate": "Rated"}


@dataclass
class Sent:
    asset: Asset
    kind: str
    at: datetime
    by: str = ""

    @property
    def verb(self) -> str:
        return KIND_VERBS.get(self.kind, self.kind)


@dataclass
class DealRow:
    opportunity: Opportunity
    sent: list[Asset] = field(default_factory=list)


@dataclass
class MyDeals:
    rows: list[DealRow]
    total: int  # open deals in all; the home page shows the first few


def my_deals(user, limit: int = 8) -> MyDeals:
    """The user's open opportunities closing first, each with the assets already sent in it."""
    every = records.open_deals_of(user)
    deals = every[:limit]
    sent = sent_in([d.id for d in deals])
    return MyDeals([DealRow(d, [s.asset for s in _distinct(sent.get(d.id, []))]) for d in deals], len(every))


def sent_in(opportunity_ids: list[int]) -> dict[int, list[Sent]]:
    """Opportunity id → what was sent in it (shares, customized documents, kits), newest first."""
    if not opportunity_ids:
        return {}
    rows = db.session.execute(
        select(UsageEvent.opportunity_id, UsageEvent.asset_id, UsageEvent.kind, UsageEvent.created_at, User.name)
        .outerjoin(User, User.id == UsageEvent.user_id)
        .where(UsageEvent.opportunity_id.in_(opportunity_ids), UsageEvent.kind.in_(SENT_KINDS),
               UsageEvent.asset_id.isnot(None))
        .order_by(UsageEvent.created_at.desc(), UsageEvent.id.desc())).all()
    # Where it is shown (home, deals, a deal's page) a sent asset is its title and link: no card data.
    loaded = {a.id: a for a in assets.load_in_order([r.asset_id for r in rows])}
    found: dict[int, list[Sent]] = defaultdict(list)
    for r in rows:
        if r.asset_id in loaded:
            found[r.opportunity_id].append(Sent(loaded[r.asset_id], r.kind, r.created_at, r.name or ""))
    return found


def _distinct(sent: list[Sent]) -> list[Sent]:
    seen, out = set(), []
    for s in sent:
        if s.asset.id not in seen:
            seen.add(s.asset.id)
            out.append(s)
    return out


def team_deals(user, limit: int = 50) -> list[Opportunity]:
    """Open deals the user sees (a manager: the team's), by close date."""
    return records.opportunities(user, status="open", per_page=limit)[1]

