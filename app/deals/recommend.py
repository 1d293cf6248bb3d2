"""What to send in a deal, each with its reason, for a deal's cells (each of its account's terms × its stage).

In this order, each asset once (its first reason wins):
1. *plays*: assets marketing pinned to one of the deal's cells;
2. *won more than lost*: assets sent in a larger share of the cell's won deals than of its lost ones
   (closed deals of an account with that term, at that stage; sent = a share or customize event of
   the deal logged before it closed), in at least MIN_WON won deals, the largest difference first:
   "in 7 of 9 won Healthcare · Decision deals (1 of 6 lost)";
3. *used in the cell*: what reps used most (views, downloads, copies, customizing, shares) in the
   cell's other deals, open or closed.
Only assets the rep may see today; internal-only ones are recommended for the rep's own eyes and marked;
those already sent in this deal are marked too.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select

from app.extensions import db
from app.library import assets
from app.models import CLOSED_STATUSES, Asset, DealAsset, Opportunity, Play, Stage, Term, account_term

LIMIT = 10
MIN_WON = 2  # a single won deal is an anecdote, not a pattern


@dataclass
class Recommendation:
    asset: Asset
    source: str  # play, won, used
    reason: str
    score: float = 0.0
    sent: bool = False  # already sent in this deal

    @property
    def internal(self) -> bool:
        return self.asset.is_internal


def cell_name(term: Term, stage: Stage) -> str:
    return f"{term.name} · {stage.name}"


def recommend(user, opportunity: Opportunity, limit: int = LIMIT) -> list[Recommendation]:
    """Recommendations for `opportunity`, best first (see the module's docstring)."""
    stage, terms = opportunity.stage, list(opportunity.account.terms)
    if stage is None or not terms:
        return []
    sources = (("play", _plays(terms, stage)), ("won", _won_more(opportunity, terms, stage)),
               ("used", _used_in_cell(opportunity, terms, stage)))
    ranked: dict[int, tuple[str, str, float]] = {}  # each asset once, its first reason
    for source, items in sources:
        for asset_id, reason, score in items:
            ranked.setdefault(asset_id, (source, reason, score))
    order, chosen = list(ranked), []
    for start in range(0, len(order), limit * 5):  # the best first: thousands of candidates, ten wanted
        batch = order[start:start + limit * 5]
        visible = set(db.session.scalars(assets.visible_to(user, select(Asset.id).where(Asset.id.in_(batch)))))
        chosen += [i for i in batch if i in visible][:limit - len(chosen)]
        if len(chosen) == limit:
            break
    found = {i: ranked[i] for i in chosen}
    loaded = {a.id: a for a in assets.load_cards(chosen)}
    already = sent_before_close([opportunity.id]).get(opportunity.id, set())
    return [Recommendation(loaded[i], *found[i], sent=i in already) for i in chosen if i in loaded]


def _plays(terms: list[Term], stage: Stage) -> list[tuple[int, str, float]]:
    names = {t.id: t for t in terms}
    rows = db.session.execute(select(Play.asset_id, Play.term_id, Play.note).where(
        Play.stage_id == stage.id, Play.term_id.in_(names)).order_by(Play.created_at, Play.id)).all()
    rows.sort(key=lambda r: (names[r.term_id].position, names[r.term_id].name))
    return [(r.asset_id, f"Marketing's play for {cell_name(names[r.term_id], stage)}"
             + (f": {r.note}" if r.note else ""), 1.0) for r in rows]


def cell_deals(terms: list[Term], stage: Stage, *, exclude: int | None = None, closed: bool = False):
    """(opportunity id, status, closed_at, term id) of the deals in the cells of `terms` × `stage`."""
    query = (select(Opportunity.id, Opportunity.status, Opportunity.closed_at, account_term.c.term_id)
             .join(account_term, account_term.c.account_id == Opportunity.account_id)
             .where(Opportunity.stage_id == stage.id, account_term.c.term_id.in_([t.id for t in terms])))
    if exclude is not None:
        query = query.where(Opportunity.id != exclude)
    if closed:
        query = query.where(Opportunity.status.in_(CLOSED_STATUSES))
    return db.session.execute(query).all()


def sent_before_close(opportunity_ids) -> dict[int, set[int]]:
    """Opportunity id → the assets sent in it (shared or customized) before it closed (any time if open),
    from `deal_asset`: an asset was sent before the close exactly when its first sending was."""
    ids = list(set(opportunity_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        select(DealAsset.opportunity_id, DealAsset.asset_id)
        .join(Opportunity, Opportunity.id == DealAsset.opportunity_id)
        .where(DealAsset.opportunity_id.in_(ids), DealAsset.first_sent_at.isnot(None),
               (Opportunity.closed_at.is_(None)) | (DealAsset.first_sent_at <= Opportunity.closed_at))).all()
    sent: dict[int, set[int]] = defaultdict(set)
    for opportunity_id, asset_id in rows:
        sent[opportunity_id].add(asset_id)
    return sent


def _won_more(opportunity: Opportunity, terms: list[Term], stage: Stage) -> list[tuple[int, str, float]]:
    deals = cell_deals(terms, stage, exclude=opportunity.id, closed=True)
    sent = sent_before_close(d.id for d in deals)
    best: dict[int, tuple[float, int, str]] = {}
    for term in terms:
        won = {d.id for d in deals if d.term_id == term.id and d.status == "won"}
        lost = {d.id for d in deals if d.term_id == term.id and d.status == "lost"}
        if not won:
            continue
        in_won = Counter(a for deal in won for a in sent.get(deal, ()))
        in_lost = Counter(a for deal in lost for a in sent.get(deal, ()))
        for asset_id, won_with in in_won.items():
            lost_with = in_lost[asset_id]
            difference = won_with / len(won) - (lost_with / len(lost) if lost else 0.0)
            if difference <= 0 or won_with < MIN_WON:
                continue
            reason = f"in {won_with} of {len(won)} won {cell_name(term, stage)} deals"
            reason += f" ({lost_with} of {len(lost)} lost)" if lost else ""
            if asset_id not in best or (difference, won_with) > best[asset_id][:2]:
                best[asset_id] = (difference, won_with, reason)
    ordered = sorted(best.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))
    return [(asset_id, reason, difference) for asset_id, (difference, _, reason) in ordered]


def _used_in_cell(opportunity: Opportunity, terms: list[Term], stage: Stage) -> list[tuple[int, str, float]]:
    names = {t.id: t for t in terms}
    rows = db.session.execute(  # uses per deal and asset, summed from `deal_asset`
        select(account_term.c.term_id, DealAsset.asset_id, func.sum(DealAsset.uses), func.count())
        .join(Opportunity, Opportunity.id == DealAsset.opportunity_id)
        .join(account_term, account_term.c.account_id == Opportunity.account_id)
        .where(Opportunity.stage_id == stage.id, Opportunity.id != opportunity.id,
               account_term.c.term_id.in_(list(names)), DealAsset.uses > 0)
        .group_by(account_term.c.term_id, DealAsset.asset_id)).all()
    order = {t.id: (t.position, t.name) for t in terms}
    cells = {t.id: cell_name(t, stage) for t in terms}
    best: dict[int, tuple[int, int, int]] = {}  # asset → (uses, deals, term) of its busiest cell, first term on ties
    for term_id, asset_id, uses, in_deals in sorted(rows, key=lambda r: order[r[0]]):
        if asset_id not in best or uses > best[asset_id][0]:
            best[asset_id] = (uses, in_deals, term_id)
    ordered = sorted(best.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))
    return [(asset_id, f"used {uses} time{'s' if uses != 1 else ''} in {in_deals} {cells[term_id]} "
             f"deal{'s' if in_deals != 1 else ''}", float(uses)) for asset_id, (uses, in_deals, term_id) in ordered]
