"""The demo's deals: ~40 accounts and ~150 opportunities over the 90 days of history, saved through the
deals service as a CRM sync would, with the content reps sent in each logged with its opportunity.

Outcomes depend on what was sent, so the influence page has something true to find: the ROI summary,
the mutual action plan and the account's own industry case study raise a deal's chance to be won;
the platform overview and the first-meeting deck are sent in most deals and change nothing.
"""
from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from app import usage
from app.database import transaction
from app.deals import plays, records
from app.extensions import db
from app.library import taxonomy
from app.models import Asset, ShareLink, User, utcnow

INDUSTRY_ACCOUNTS = {
    "Healthcare": ["Acme Health", "St. Brigid Clinics", "Riverbend Medical", "Pinecrest Hospital", "Oakview Care",
                   "Summit Health Partners", "Lakeshore Children's", "Meridian Health", "Bayside Clinic"],
    "Financial Services": ["Harbor Credit Union", "Granite Trust", "Northstar Insurance", "Copperfield Bank",
                           "Evergreen Mutual", "Bluewater Capital", "Keystone Savings", "Ridgeline Finance"],
    "Retail": ["Northwind Foods", "Cornerstone Outfitters", "Maple & Main", "Brightway Grocers", "Urban Pantry",
               "Sunset Apparel", "Parkside Markets", "Fieldstone Home"],
    "Manufacturing": ["Kestrel Tools", "Ironbridge Castings", "Vantage Plastics", "Halcyon Motors",
                      "Redwood Fabrication", "Atlas Components", "Crescent Packaging"],
    "Public Sector": ["County of Ashford", "City of Wexley", "State Parks Agency", "Port of Halden",
                      "Marlow Water District", "Dunmore Transit", "Elmstead Schools", "Regional Permits Office"],
}
CASE_STUDIES = {"Healthcare": "pdf/case-study-st-aldens-health.pdf",
                "Financial Services": "pdf/case-study-harborline-bank.pdf",
                "Retail": "pdf/case-study-northgate-retail.pdf",
                "Manufacturing": "pdf/case-study-kessler-manufacturing.pdf",
                "Public Sector": "pdf/case-study-county-of-marlow.pdf"}
# What a rep sends at each stage: (manifest path, chance); "case study" means the account's industry's.
SENDS = {
    "Awareness": [("pdf/platform-overview-brochure.pdf", 0.6), ("decks/first-meeting-deck.pptx", 0.55)],
    "Consideration": [("case study", 0.45), ("pdf/roi-summary-one-pager.pdf", 0.4), ("pdf/insight-datasheet.pdf", 0.3),
                      ("decks/first-meeting-deck.pptx", 0.3)],
    "Decision": [("docs/mutual-action-plan.docx", 0.35), ("pdf/security-overview.pdf", 0.3),
                 ("pdf/platform-overview-brochure.pdf", 0.35)],
}
# How much each sent asset adds to the chance of winning (the rest add nothing).
LIFT = {"pdf/roi-summary-one-pager.pdf": 0.3, "docs/mutual-action-plan.docx": 0.3, "case study": 0.25}
BASE_WIN = 0.12
BUYER_OPENS = 0.65  # of the demo's shared links, the share a buyer opens
CUSTOMIZED = {"pdf/roi-summary-one-pager.pdf"}  # customized documents; the rest are shared links
PLAYS = [("Healthcare", "Decision", "pdf/case-study-st-aldens-health.pdf", "Proof a hospital board trusts"),
         ("Healthcare", "Consideration", "messaging/discovery-questions-healthcare.md", "Ask these before you pitch"),
         ("Retail", "Consideration", "messaging/talk-track-retail.md", "")]
OPPORTUNITIES = 150
NAMES = ["Platform rollout", "Pilot", "Expansion", "Renewal", "Operations analytics", "Compliance program"]


@dataclass
class DealsReport:
    accounts: int
    opportunities: int
    closed: int
    events: int


def seed_deals(reps: list[User], sync: User, marketer: User, days: int, rng: random.Random) -> DealsReport:
    """Accounts, `reps`' opportunities moving through the funnel over `days` days (saved by `sync`, as
    the CRM's integration user would), the content sent in them, and marketing's plays."""
    paths = {a.source_key: a for a in db.session.scalars(select(Asset).where(Asset.source_key.isnot(None)))}
    industry, _ = taxonomy.terms_by_name(list(INDUSTRY_ACCOUNTS), taxonomy.ensure_dimension("Industry"))
    terms = {t.name: t for t in industry}
    mid_market, _ = taxonomy.terms_by_name(["Mid-Market"])
    stages = {s.name: s for s in taxonomy.stages()}
    accounts = [(name, sector) for sector, names in INDUSTRY_ACCOUNTS.items() for name in names]
    now = utcnow().replace(second=0, microsecond=0)
    rows, closed = [], 0
    buyers = random.Random(97)  # the buyers' opens draw apart: the deals and their outcomes stay as they were
    for n in range(OPPORTUNITIES):
        account, sector = accounts[n % len(accounts)] if n < len(accounts) else rng.choice(accounts)
        owner = reps[n % len(reps)] if n < len(reps) * 4 else rng.choice(reps)
        account_terms = [terms[sector].id] + ([mid_market[0].id] if mid_market and rng.random() < 0.4 else [])
        created = now - timedelta(days=rng.uniform(4, days - 1), hours=rng.randint(0, 8))
        lifetime = timedelta(days=rng.uniform(33, 90))
        data = records.OpportunityData(
            name=f"{account} — {rng.choice(NAMES)}", account_name=account, external_id=f"006D{n + 1:05d}",
            account_external_id=f"001D{accounts.index((account, sector)) + 1:04d}", account_term_ids=account_terms,
            stage_id=stages["Awareness"].id, amount_minor=rng.randrange(8_000, 150_000, 500) * 100, currency="USD",
            close_date=(created + lifetime).date(), owner_id=owner.id, status="open")
        deal, _ = records.save(sync, data, source="demo", at=created)
        sent, chance = set(), BASE_WIN
        moments = [("Awareness", created), ("Consideration", created + lifetime * 0.25),
                   ("Decision", created + lifetime * 0.55)]
        for stage, start in moments:
            if start > now:
                break
            if stage != "Awareness":
                records.save(sync, _moved(data, stages[stage].id), source="demo", at=start)
            for path, probability in SENDS[stage]:
                asset = paths.get(CASE_STUDIES[sector] if path == "case study" else path)
                if asset is None or rng.random() > probability:
                    continue
                at = start + timedelta(days=rng.uniform(0, lifetime.days * 0.2), minutes=rng.randint(0, 600))
                if at >= now:
                    continue
                if path in CUSTOMIZED:
                    rows.append(usage.event_row("customize", user=owner, asset=asset, at=at, opportunity=deal.id,
                                                account=account))
                else:
                    rows += _shared(owner, asset, at, deal, account, now, buyers)
                if path not in sent:
                    chance += LIFT.get(path, 0.0)
                    sent.add(path)
        end = created + lifetime
        if end <= now:
            won = rng.random() < min(chance, 0.9)
            records.save(sync, _moved(data, stages["Decision"].id, "won" if won else "lost", end),
                         source="demo", at=end)
            closed += 1
    _pin_plays(marketer, paths, terms, stages)
    return DealsReport(len(accounts), OPPORTUNITIES, closed, usage.record(rows))


def _shared(owner: User, asset: Asset, at: datetime, deal, account: str, now: datetime,
            buyers: random.Random) -> list[dict]:
    """A tracked link the rep sent in the deal, as the share form makes one (so the Shares page and the
    log agree), and, for most, the buyer opening it a few hours later and reading a page or two."""
    link = ShareLink(token=secrets.token_urlsafe(24), user_id=owner.id, asset_id=asset.id,
                     version_id=asset.current_version.id if asset.current_version else None, account=account,
                     created_at=at, opportunity_id=deal.id, cta="reply", message="")
    with transaction():
        db.session.add(link)
    rows = [usage.event_row("share", user=owner, asset=asset, at=at, opportunity=deal.id, account=account,
                            share_id=link.id)]
    opened = at + timedelta(hours=buyers.uniform(1, 72))
    if buyers.random() < BUYER_OPENS and opened < now:
        viewer = f"demo-{link.id}"
        link.first_opened_at = opened
        db.session.commit()
        rows.append(usage.event_row("share_open", asset=asset, at=opened, opportunity=deal.id, share_id=link.id,
                                    viewer=viewer))
        for page in range(1, buyers.randint(1, 3) + 1):
            rows.append(usage.event_row("share_page", asset=asset, at=opened + timedelta(seconds=40 * page),
                                        opportunity=deal.id, share_id=link.id, viewer=viewer, page=page,
                                        seconds=round(buyers.uniform(15, 90), 1)))
    return rows


def _moved(data: records.OpportunityData, stage_id: int, status: str = "open",
           closed_at: datetime | None = None) -> records.OpportunityData:
    return records.OpportunityData(name=data.name, account_name=data.account_name, external_id=data.external_id,
                                   stage_id=stage_id, status=status, closed_at=closed_at)


def _pin_plays(marketer: User, paths: dict[str, Asset], terms: dict, stages: dict) -> None:
    for term, stage, path, note in PLAYS:
        if path in paths and term in terms:
            plays.pin(marketer, terms[term].id, stages[stage].id, paths[path].id, note)
