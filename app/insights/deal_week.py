"""The weekly review's deals section: a recount of the opportunities table and the events naming a deal.

Definitions (`usage.SENT_KINDS`, `usage.BUYER_KINDS`; the README's glossary says the same):
- a deal was *influenced* in the week when an asset was sent in it (a share or customize event naming
  the deal) during the week, whatever its status;
- a deal's buyer *opened* its room or links in the week when a buyer event (share_open, share_page,
  share_download) naming the deal was logged during the week: opens, pages and downloads are counted;
- the week's *wins* are the deals won with `closed_at` in the week, each with the assets sent in it
  and the assets its buyer opened, no later than it closed (as Influence counts them).
A team's review counts the deals its members own.
"""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select

from app.extensions import db
from app.insights.scope import Scope, titles_of
from app.insights.tables import Table
from app.models import Account, Opportunity, UsageEvent, User
from app.usage import BUYER_KINDS, SENT_KINDS


def _deals(scope: Scope, *conditions):
    """(id, name, account, owner, amount, currency, closed_at) of the matching deals, by name."""
    query = (select(Opportunity.id, Opportunity.name, Account.name.label("account"),
                    func.coalesce(User.name, "—").label("owner"), Opportunity.amount_minor, Opportunity.currency,
                    Opportunity.closed_at)
             .join(Account, Account.id == Opportunity.account_id)
             .outerjoin(User, User.id == Opportunity.owner_id).where(*conditions).order_by(Opportunity.name,
                                                                                          Opportunity.id))
    if scope.team_id is not None:
        query = query.where(User.team_id == scope.team_id)
    return db.session.execute(query).all()


def _events(scope: Scope, kinds, *, before_close: bool = False, deal_ids=None):
    """(deal id, kind, asset id) of the events of `kinds` naming a deal: in the week, or (before_close)
    any time no later than the deal closed."""
    query = (select(UsageEvent.opportunity_id, UsageEvent.kind, UsageEvent.asset_id)
             .where(UsageEvent.kind.in_(kinds), UsageEvent.opportunity_id.isnot(None)))
    if before_close:
        query = query.join(Opportunity, Opportunity.id == UsageEvent.opportunity_id).where(
            UsageEvent.opportunity_id.in_(list(deal_ids)), UsageEvent.created_at <= Opportunity.closed_at)
    else:
        query = query.where(UsageEvent.created_at >= scope.start, UsageEvent.created_at < scope.end)
    return db.session.execute(query).all()


def _listed(asset_ids, titles) -> str:
    return "; ".join(sorted(titles.get(a, "(deleted)") for a in asset_ids))


def deal_tables(scope: Scope) -> list[Table]:
    """Deals influenced, rooms and links buyers opened, and the wins of the week, as report tables."""
    sent_now, buyer_now = _events(scope, SENT_KINDS), _events(scope, BUYER_KINDS)
    won = _deals(scope, Opportunity.status == "won", Opportunity.closed_at >= scope.start,
                 Opportunity.closed_at < scope.end)
    won_events = _events(scope, (*SENT_KINDS, *BUYER_KINDS), before_close=True, deal_ids=[d.id for d in won]) \
        if won else []
    sent, buyer = defaultdict(set), defaultdict(lambda: {"share_open": 0, "share_page": 0, "share_download": 0,
                                                         "assets": set()})
    for deal_id, _, asset_id in sent_now:
        if asset_id is not None:
            sent[deal_id].add(asset_id)
    for deal_id, kind, asset_id in buyer_now:
        buyer[deal_id][kind] += 1
        if asset_id is not None:
            buyer[deal_id]["assets"].add(asset_id)
    won_sent, won_opened = defaultdict(set), defaultdict(set)
    for deal_id, kind, asset_id in won_events:
        if asset_id is not None:
            (won_sent if kind in SENT_KINDS else won_opened)[deal_id].add(asset_id)
    titles = titles_of({a for group in (sent, won_sent, won_opened) for ids in group.values() for a in ids}
                       | {a for b in buyer.values() for a in b["assets"]})
    influenced = _deals(scope, Opportunity.id.in_(list(sent))) if sent else []
    opened = _deals(scope, Opportunity.id.in_(list(buyer))) if buyer else []
    return [
        Table("deals-influenced", "Deals influenced this week: content sent in them",
              ["Deal", "Account", "Owner", "Assets sent this week"],
              [[d.name, d.account, d.owner, _listed(sent[d.id], titles)] for d in influenced],
              empty="No deal this week: no asset was shared, customized or put in a kit for a deal."),
        Table("deals-opened", "Rooms and links opened by buyers this week",
              ["Deal", "Account", "Owner", "Opens", "Pages read", "Downloads", "Assets opened"],
              [[d.name, d.account, d.owner, buyer[d.id]["share_open"], buyer[d.id]["share_page"],
                buyer[d.id]["share_download"], _listed(buyer[d.id]["assets"], titles)] for d in opened],
              empty="No buyer opened a deal's room or links this week."),
        Table("deals-won", "Won this week, with the content that went into them",
              ["Deal", "Account", "Owner", "Amount", "Sent by the rep", "Opened by the buyer"],
              [[d.name, d.account, d.owner, f"{d.currency} {d.amount_minor / 100:,.0f}",
                _listed(won_sent[d.id], titles), _listed(won_opened[d.id], titles)] for d in won],
              empty="No deal was won this week."),
    ]
