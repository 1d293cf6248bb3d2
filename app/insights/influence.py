"""Influence: does sending an asset go with winning deals? A recount of the opportunities table and the
event log over a Scope (the README's Influence section says the same).

Definitions:
- a *closed deal* is an opportunity won or lost with `closed_at` in the scope's range (for a team
  scope, owned by one of the team);
- a deal's *cells* are its account's terms, each with the deal's stage (a Healthcare, Mid-Market
  account at Decision is in Healthcare · Decision and Mid-Market · Decision);
- an asset was *sent* in a deal when a share or customize event (a link, a customized document, a
  pitch kit) names the deal and the asset, logged no later than the deal closed;
- an asset was *opened by the buyer* in a deal when a buyer event (share_open, share_page,
  share_download: a prospect on a share link or in the deal's room) names the deal and the asset,
  logged no later than the deal closed (`usage.BUYER_KINDS`): counted apart from what the rep sent;
- per asset, *with* = the closed deals it was sent in; *without* = the other closed deals that share a
  cell with at least one of those: the same kind of deal at the same stage, without the asset;
- the *difference* is win rate with − win rate without, with a 95% interval by Newcombe's hybrid
  score method (his method 10, 1998): with Wilson intervals (l1, u1) for p1 and (l2, u2) for p2,
      low  = (p1 − p2) − √((p1 − l1)² + (u2 − p2)²)
      high = (p1 − p2) + √((u1 − p1)² + (p2 − l2)²)
  where Wilson's interval for x of n is (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n), z = 1.95996.
  Unlike the textbook Wald interval it stays inside [−1, 1] and behaves at small counts and at 0% or 100%.
Rates, difference and interval are shown only when both groups hold at least `min_deals` deals; the
counts are shown for every asset sent in a closed deal. Correlation, not proof.
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import and_, select

from app.extensions import db
from app.insights.scope import Scope, asset_filter, titles_of
from app.models import CLOSED_STATUSES, Asset, DealAsset, Dimension, Opportunity, Stage, Term, User, account_term

MIN_DEALS = 5  # closed deals with and without the asset, each, before rates and the interval are shown
Z95 = 1.959963984540054


def wilson(won: int, deals: int, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval for a proportion won/deals."""
    if deals == 0:
        return 0.0, 1.0
    p = won / deals
    centre = p + z * z / (2 * deals)
    spread = z * math.sqrt(p * (1 - p) / deals + z * z / (4 * deals * deals))
    scale = 1 + z * z / deals
    return (centre - spread) / scale, (centre + spread) / scale


def difference_interval(won1: int, n1: int, won2: int, n2: int, z: float = Z95) -> tuple[float, float, float]:
    """(p1 − p2, low, high): Newcombe's hybrid score interval for a difference of two proportions."""
    p1, p2 = won1 / n1, won2 / n2
    l1, u1 = wilson(won1, n1, z)
    l2, u2 = wilson(won2, n2, z)
    d = p1 - p2
    return d, d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


@dataclass
class AssetInfluence:
    id: int
    title: str
    deals_with: int
    won_with: int
    deals_without: int
    won_without: int
    shown: bool  # above the minimum sample: rates and interval are meaningful
    deals_opened: int = 0  # closed deals whose buyer opened it before the close (`usage.BUYER_KINDS`)
    won_opened: int = 0

    @property
    def win_rate_with(self) -> float | None:
        return self.won_with / self.deals_with if self.shown else None

    @property
    def win_rate_without(self) -> float | None:
        return self.won_without / self.deals_without if self.shown else None

    @property
    def interval(self) -> tuple[float, float, float] | None:
        """(difference, low, high) as fractions, when shown."""
        if not self.shown:
            return None
        return difference_interval(self.won_with, self.deals_with, self.won_without, self.deals_without)


@dataclass
class CellOutcome:
    """One cell of the funnel plan (a term × a stage), measured: its closed deals and what was sent in them."""

    term: str
    stage: str
    deals: int
    won: int
    sent_in_won: list[tuple[str, int]]  # (asset title, won deals it was sent in), most first, ties by title
    sent_in_lost: list[tuple[str, int]]


@dataclass
class InfluenceReport:
    deals: int  # closed deals in the range
    won: int
    assets: list[AssetInfluence]  # shown first (largest difference first), then the rest by deals
    min_deals: int = MIN_DEALS
    cells: list[CellOutcome] = field(default_factory=list)  # in the terms' and stages' order

    @property
    def shown(self) -> list[AssetInfluence]:
        return [a for a in self.assets if a.shown]

    @property
    def below_sample(self) -> int:
        return sum(not a.shown for a in self.assets)


def closed_filter(scope: Scope):
    """Conditions on Opportunity for the deals closed in the scope's range (by the scope's team)."""
    conditions = [Opportunity.status.in_(CLOSED_STATUSES), Opportunity.closed_at >= scope.start,
                  Opportunity.closed_at < scope.end]
    if scope.team_id is not None:
        conditions.append(Opportunity.owner_id.in_(select(User.id).where(User.team_id == scope.team_id)))
    return and_(*conditions)


def closed_deals(scope: Scope) -> dict[int, str]:
    """Closed deal id → won or lost, for deals closed in the scope's range (by the scope's team)."""
    return dict(db.session.execute(select(Opportunity.id, Opportunity.status).where(closed_filter(scope))).all())


def cells_of(scope: Scope) -> dict[int, set[tuple[int, int]]]:
    """Closed deal id → its (term id, stage id) cells, for the deals closed in the scope."""
    rows = db.session.execute(
        select(Opportunity.id, account_term.c.term_id, Opportunity.stage_id)
        .join(account_term, account_term.c.account_id == Opportunity.account_id)
        .where(closed_filter(scope), Opportunity.stage_id.isnot(None))).all()
    cells: dict[int, set[tuple[int, int]]] = defaultdict(set)
    for deal_id, term_id, stage_id in rows:
        cells[deal_id].add((term_id, stage_id))
    return cells


def sent_in(scope: Scope, *, opened: bool = False) -> dict[int, set[int]]:
    """Asset id → the deals closed in the scope it was sent in (no later than each closed), for the
    scope's assets; with `opened`, the deals whose buyer opened it. Read from `deal_asset`, the log's
    summary per deal and asset: an asset was sent before the close exactly when its first sending was."""
    first = DealAsset.first_opened_at if opened else DealAsset.first_sent_at
    query = (select(DealAsset.asset_id, DealAsset.opportunity_id)
             .join(Opportunity, Opportunity.id == DealAsset.opportunity_id)
             .where(closed_filter(scope), first <= Opportunity.closed_at))
    if scope.narrows_assets:
        query = query.where(DealAsset.asset_id.in_(select(Asset.id).where(asset_filter(scope))))
    sent: dict[int, set[int]] = defaultdict(set)
    for asset_id, deal_id in db.session.execute(query):
        sent[asset_id].add(deal_id)
    return sent


def influence(scope: Scope, min_deals: int = MIN_DEALS) -> InfluenceReport:
    """Per asset sent in a closed deal: won/lost with it, against the same cells' deals without it."""
    outcome = closed_deals(scope)
    cells = cells_of(scope)
    sent = sent_in(scope)
    opened = sent_in(scope, opened=True)
    in_cell: dict[tuple[int, int], set[int]] = defaultdict(set)
    for deal_id, deal_cells in cells.items():
        for cell in deal_cells:
            in_cell[cell].add(deal_id)
    titles = titles_of(sent.keys() | opened.keys())
    won = {d for d, result in outcome.items() if result == "won"}
    # Sets of deals as bits of an int (a deal → one bit): unions and counts over thousands of deals
    # per asset cost a few machine words instead of a hash set each.
    bit = {deal_id: 1 << n for n, deal_id in enumerate(outcome)}
    cell_bits = {cell: _bits(deals, bit) for cell, deals in in_cell.items()}
    won_bits = _bits(won, bit)
    found = []
    for asset_id in sent.keys() | opened.keys():
        with_deals, opened_deals = sent.get(asset_id, set()), opened.get(asset_id, set())
        with_bits, similar = _bits(with_deals, bit), 0
        for cell in set().union(*(cells.get(d, ()) for d in with_deals)):
            similar |= cell_bits[cell]
        without = similar & ~with_bits
        deals_without, won_without = without.bit_count(), (without & won_bits).bit_count()
        won_with = len(with_deals & won)
        found.append(AssetInfluence(asset_id, titles.get(asset_id, "(deleted)"), len(with_deals), won_with,
                                    deals_without, won_without,
                                    len(with_deals) >= min_deals and deals_without >= min_deals,
                                    len(opened_deals), len(opened_deals & won)))
    found.sort(key=lambda a: (not a.shown, -(a.interval[0] if a.shown else 0.0), -a.deals_with, a.title))
    return InfluenceReport(len(outcome), sum(r == "won" for r in outcome.values()), found, min_deals,
                           _cell_outcomes(outcome, in_cell, sent, titles))


def _bits(deals, bit: dict[int, int]) -> int:
    total = 0
    for deal_id in deals:
        total |= bit[deal_id]
    return total


def _cell_outcomes(outcome: dict[int, str], in_cell: dict, sent: dict[int, set[int]],
                   titles: dict[int, str], top: int = 3) -> list[CellOutcome]:
    """Each cell with closed deals: how many, how many won, the assets sent most in its won and lost deals."""
    if not in_cell:
        return []
    terms = {t.id: t for t in db.session.scalars(select(Term).join(Dimension).where(
        Term.id.in_({term for term, _ in in_cell})).order_by(Dimension.position, Term.position, Term.name))}
    stages = {s.id: s for s in db.session.scalars(select(Stage).where(Stage.id.in_({s for _, s in in_cell})))}
    order = list(terms)
    assets_in: dict[int, list[int]] = defaultdict(list)  # deal → the assets sent in it
    for asset_id, deals in sent.items():
        for deal_id in deals:
            assets_in[deal_id].append(asset_id)
    cells = []
    for (term_id, stage_id), deals in sorted(in_cell.items(), key=lambda kv: (
            order.index(kv[0][0]), stages[kv[0][1]].position, stages[kv[0][1]].name)):
        ranked = {}
        for result in CLOSED_STATUSES:
            counted = Counter(a for d in deals if outcome[d] == result for a in assets_in.get(d, ()))
            ranked[result] = sorted(((titles.get(a, "(deleted)"), n) for a, n in counted.items()),
                                    key=lambda c: (-c[1], c[0]))[:top]
        cells.append(CellOutcome(terms[term_id].name, stages[stage_id].name, len(deals),
                                 sum(outcome[d] == "won" for d in deals), ranked["won"], ranked["lost"]))
    return cells
