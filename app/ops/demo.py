"""The demo: build collateral/ into real files, load it like a customer would, add people and history."""
from __future__ import annotations

import csv
import random
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update

from app import search, usage
from app.accounts import service as accounts
from app.config import ROOT
from app.database import transaction
from app.documents import authoring
from app.extensions import db
from app.files import pdf
from app.library import collections, flags, freshness, importer, ratings, taxonomy
from app.models import Asset, AssetStatus, Opportunity, Role, UsageEvent, User, utcnow
from app.ops import demo_comments, demo_deals, demo_rooms
from app.web import branding
from app.web.markup import render_markdown

DEMO_SOURCE = ROOT / "collateral"
DEMO_PASSWORD = "bridge-demo"
COMPANY = "Lumenfold"
DIMENSIONS = {"Industry": ["Healthcare", "Financial Services", "Retail", "Manufacturing", "Public Sector"],
              "Company size": ["Mid-Market"]}
STAGES = ["Awareness", "Consideration", "Decision", "Onboarding", "Expansion"]
PEOPLE = [
    ("admin@example.com", "Avery Admin", Role.ADMIN, None),
    ("marketer@example.com", "Mara Quinn", Role.MARKETER, "Marketing"),
    ("manager@example.com", "Dana Brooks", Role.MANAGER, "Team East"),
    ("rep@example.com", "Riley Park", Role.REP, "Team East"),
    ("jordan@example.com", "Jordan Lee", Role.REP, "Team East"),
    ("sam@example.com", "Sam Ortiz", Role.REP, "Team East"),
    ("taylor@example.com", "Taylor Kim", Role.REP, "Team West"),
    ("morgan@example.com", "Morgan Diaz", Role.REP, "Team West"),
    ("casey@example.com", "Casey Nguyen", Role.REP, "Team West"),
    ("west.manager@example.com", "Chris Walker", Role.MANAGER, "Team West"),
]
# Reps' activity level: one never logs in, so adoption has something true to show.
ACTIVITY = {"rep@example.com": 0.8, "jordan@example.com": 0.6, "sam@example.com": 0.35,
            "taylor@example.com": 0.7, "morgan@example.com": 0.25, "casey@example.com": 0.0,
            "manager@example.com": 0.2, "west.manager@example.com": 0.1}
SEARCHES = [
    "roi calculator", "hipaa", "case study retail", "pricing", "security questionnaire",
    "onboarding checklist", "competitor comparison", "total cost of ownership", "renewal email",
    "manufacturing downtime", "public sector procurement", "soc 2", "executive summary",
    "spanish brochure", "price list 2027", "fedramp moderate", "integration sap",
]
HISTORY_DAYS = 90
# What a marketing team would set up for how its reps talk (issue 16). Written with the relevance
# benchmark's synonym queries in view, so bench/relevance.py also reports Bridge without them.
SYNONYMS = [
    "mid-size, mid-market, midsize, mid-sized",
    "hospital, healthcare, health system",
    "tco, total cost of ownership",
    "roi, return on investment",
    "price list, price sheet, pricing",
    "bank, banking, financial services",
    "factory, plant",
    "grocery, supermarket, retail",
    "upsell, cross-sell, expansion",
    "ehr, emr, electronic health record",
    "competitor, competition, competitive",
    "business case, cost justification",
    "presentation, deck, slides",
    "government, public sector",
    "customer reference, case study, customer story",
    "soc 2, soc2",
]


@dataclass
class SeedReport:
    users: int
    import_report: importer.ImportReport
    events: int


def build_demo_files(source: Path, out: Path) -> Path:
    """Turn collateral/ into the files its manifest names: PDFs, decks, documents, texts.

    A file already built from an unchanged source is kept, so re-seeding finds nothing new.
    """
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source / importer.MANIFEST, out / importer.MANIFEST)
    with (source / importer.MANIFEST).open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            ref = row["file"]
            if ref.startswith(("https://", "http://")):
                continue
            target = out / ref
            target.parent.mkdir(parents=True, exist_ok=True)
            origin = source / ref
            if not origin.is_file():
                origin = source / "sources" / f"{Path(ref).stem}.md"
            if target.exists() and target.stat().st_mtime >= origin.stat().st_mtime:
                continue
            if origin.suffix == target.suffix:
                shutil.copyfile(origin, target)
            else:
                BUILDERS[target.suffix.lower()](origin.read_text(encoding="utf-8"), row, target)
    return out


def _sections(text: str) -> tuple[str, list[tuple[str, list[str]]]]:
    """Split Markdown into an intro and (heading, lines) sections at '## ' headings."""
    intro: list[str] = []
    sections: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("# "):
            continue
        if line.startswith("## "):
            sections.append((line[3:].strip(), []))
        elif sections:
            sections[-1][1].append(line)
        else:
            intro.append(line)
    return "\n".join(intro).strip(), sections


def _build_pdf(text: str, row: dict, target: Path) -> None:
    html = pdf.html_of("pdf/demo_collateral.html", row=row, body=render_markdown(text),
                           kind=row["kind"].replace("_", " "))
    target.write_bytes(pdf.render_pdf(html, ("pdf/collateral.css",)))


def _build_pptx(text: str, row: dict, target: Path) -> None:
    from pptx import Presentation

    deck = Presentation()
    title_slide = deck.slides.add_slide(deck.slide_layouts[0])
    title_slide.shapes.title.text = row["title"]
    title_slide.placeholders[1].text = f"Lumenfold · {row['product']}"
    intro, sections = _sections(text)
    for heading, lines in [("Why it matters", intro.splitlines())] + sections:
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = heading
        body = slide.placeholders[1].text_frame
        points = [line.lstrip("-* ").strip() for line in lines if line.strip()]
        body.text = points[0] if points else ""
        for point in points[1:]:
            body.add_paragraph().text = point
    deck.save(target)


def _build_docx(text: str, row: dict, target: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading(row["title"], level=0)
    intro, sections = _sections(text)
    document.add_paragraph(intro)
    for heading, lines in sections:
        document.add_heading(heading, level=1)
        for line in filter(str.strip, lines):
            style = "List Bullet" if line.lstrip().startswith(("-", "*")) else None
            document.add_paragraph(line.lstrip("-* ").strip(), style=style)
    document.save(target)


BUILDERS = {".pdf": _build_pdf, ".pptx": _build_pptx, ".docx": _build_docx}


def ensure_branding() -> None:
    """Lumenfold's name and logo on what prospects see (once; an admin's later change stays)."""
    if not branding.current().logo_png:
        branding.save(COMPANY, logo_png())


def logo_png() -> bytes:
    """Lumenfold's mark: a square folded along its diagonal, in two blues."""
    import io

    from PIL import Image, ImageDraw

    size = 320  # drawn large and scaled down: smooth edges without an anti-aliasing pass of our own
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    top, right, bottom, left = (size // 2, 12), (size - 12, size // 2), (size // 2, size - 12), (12, size // 2)
    draw.polygon([top, right, bottom], fill=(47, 73, 181, 255))
    draw.polygon([top, bottom, left], fill=(116, 143, 252, 255))
    draw.line([top, bottom], fill=(255, 255, 255, 255), width=10)
    out = io.BytesIO()
    image.resize((160, 160), Image.Resampling.LANCZOS).save(out, "PNG")
    return out.getvalue()


def ensure_people() -> list[User]:
    people = []
    for email, name, role, team in PEOPLE:
        user = accounts.find_user(email) or accounts.create_user(
            email, name, role.value, DEMO_PASSWORD, team)
        people.append(user)
    return people


def seed_demo(build_dir: Path, first_run_only: bool = False) -> SeedReport | None:
    """Load the demo: taxonomy, people, the library (via import) and 90 days of history.

    Idempotent: people and assets are matched by email and manifest path; history is added
    only when the log is empty. With `first_run_only`, does nothing once any user exists.
    """
    if first_run_only and db.session.scalar(select(User.id).limit(1)) is not None:
        return None
    for dimension, names in DIMENSIONS.items():
        taxonomy.ensure_dimension(dimension, names)
    taxonomy.ensure_stages(STAGES)
    ensure_branding()
    people = ensure_people()
    marketer = next(u for u in people if u.role == Role.MARKETER.value)
    search.ensure_synonyms(SYNONYMS, marketer)
    with search.batched_updates():
        report = importer.import_collateral(build_demo_files(DEMO_SOURCE, build_dir), marketer)
    search.refresh_notes()  # the demo's PDFs share an "About Lumenfold" paragraph
    attach_templates(marketer)
    save_collections(next(u for u in people if u.email == "rep@example.com"))
    events = 0
    if db.session.scalar(select(UsageEvent.id).limit(1)) is None:
        events = usage.record(history_events(people, random.Random(2026)))
        events += seed_ratings(people, random.Random(7))
        events += seed_reviews(marketer, random.Random(11))
    if db.session.scalar(select(Opportunity.id).limit(1)) is None:
        reps = [u for u in people if u.role == Role.REP.value and ACTIVITY.get(u.email, 0) > 0]
        admin = next(u for u in people if u.role == Role.ADMIN.value)
        events += demo_deals.seed_deals(reps, admin, marketer, HISTORY_DAYS, random.Random(24)).events
        events += demo_rooms.seed_rooms(random.Random(31))
    return SeedReport(len(people), report, events)


# Customizable demo assets: template folder under collateral/templates → manifest path.
TEMPLATES = {
    "roi-summary": "pdf/roi-summary-one-pager.pdf",
    "hospital-one-pager": "pdf/healthcare-one-pager.pdf",
    "proposal-cover-letter": "messaging/proposal-cover-letter.md",
}


def attach_templates(author: User) -> int:
    """Make the demo's customizable assets customizable (once; marketers' later edits stay)."""
    attached = 0
    for folder, manifest_path in TEMPLATES.items():
        asset = db.session.scalar(select(Asset).where(Asset.source_key == manifest_path))
        if asset is None or asset.template is not None:
            continue
        source = DEMO_SOURCE / "templates" / folder
        fields = authoring.parse_fields_json((source / "fields.json").read_text())
        authoring.save_template(asset, (source / "template.html").read_text(),
                                    (source / "template.css").read_text(), fields, author)
        attached += 1
    return attached


# A demo rep's saved collections: name → manifest paths, in order.
COLLECTIONS = {
    # what a rep sends as it is (the customizable one-pagers go out customized: their own pages say so)
    "Healthcare decision stage": ["pdf/case-study-st-aldens-health.pdf", "decks/healthcare-executive-deck.pptx",
                                  "pdf/security-overview.pdf"],
}


def save_collections(rep: User) -> int:
    """Give the demo rep a saved collection or two (once; kept as the rep changes them)."""
    made = 0
    existing = {s.collection.name for s in collections.collections_of(rep)}
    for name, paths in COLLECTIONS.items():
        if name in existing:
            continue
        found = {a.source_key: a.id for a in db.session.scalars(select(Asset).where(Asset.source_key.in_(paths)))}
        collections.create(rep, name, [found[p] for p in paths if p in found])
        made += 1
    return made


ACCOUNTS = ["Acme Health", "Harbor Credit Union", "Northwind Foods", "Kestrel Tools"]
def seed_ratings(people: list[User], rng: random.Random) -> int:
    """Ratings from active reps on assets they used: mostly good, a few bad ones with reasons and flags."""
    used = list(db.session.scalars(
        select(Asset).where(Asset.id.in_(select(UsageEvent.asset_id).distinct())).order_by(Asset.id)))
    raters = [u for u in people if ACTIVITY.get(u.email, 0) > 0.2]
    events = 0
    for asset in rng.sample(used, k=min(len(used), 18)):
        for user in rng.sample(raters, k=rng.randint(1, 3)):
            stars = rng.choices([5, 4, 3, 2, 1], weights=[4, 4, 2, 1.2, 0.5])[0]
            outcome = rng.choice(["", "open", "won", "lost"])
            account = rng.choice(ACCOUNTS) if outcome else ""
            comment = demo_comments.comment_for(user, asset, stars, account, rng) if rng.random() < 0.6 else ""
            when = utcnow() - timedelta(days=rng.randint(1, HISTORY_DAYS - 1), hours=rng.randint(0, 8))
            ratings.rate(user, asset, stars, comment, account, outcome, at=when)
            events += 1
            if stars <= 2 and comment and not flags.open_on(asset):
                reason = "outdated" if any(w in comment for w in ("date", "retired")) else "wrong"
                flags.raise_flag(user, asset, reason, comment, at=when)
                events += 1
    return events


RECENTLY_EDITED = 5  # demo assets edited in the last week (the rest 8 to HISTORY_DAYS days ago)


def seed_reviews(marketer: User, rng: random.Random) -> int:
    """The marketer's checks, spread over each asset's interval and a little past it (one in eight
    overdue): the demo shows fresh, due and overdue assets, and a review queue with something in it."""
    assets = list(db.session.scalars(select(Asset).order_by(Asset.id)))
    with transaction():  # the library predates its history: ages vary, none is "new" (the glossary's grace period)
        for asset in assets:
            db.session.execute(update(Asset).where(Asset.id == asset.id).values(
                created_at=utcnow() - timedelta(days=HISTORY_DAYS + rng.randint(5, 400)), updated_at=Asset.updated_at))
    # Edited over the weeks, a few this week: not all "updated" at the moment of the import, which told
    # every rep of ~40 changes in their segments at their first login. (Through the ORM: the index follows.)
    recent = set(rng.sample(range(len(assets)), k=min(RECENTLY_EDITED, len(assets))))
    with transaction():
        for n, asset in enumerate(assets):
            days = rng.uniform(0.5, 6) if n in recent else rng.uniform(8, HISTORY_DAYS)
            asset.updated_at = utcnow() - timedelta(days=days)
    for asset in assets:
        days_ago = rng.randint(0, asset.review_interval_days * 8 // 7)
        freshness.verify(marketer, [asset], at=utcnow() - timedelta(days=days_ago, hours=rng.randint(0, 8)))
    return len(assets)


def history_events(people: list[User], rng: random.Random) -> list[dict]:
    """90 days of plausible use: a few assets used heavily, many never, one rep absent."""
    live = list(db.session.scalars(
        select(Asset).where(Asset.status == AssetStatus.PUBLISHED.value).order_by(Asset.id)))
    rng.shuffle(live)
    used = live[: int(len(live) * 0.55)]  # the rest stays ignored: the problem Bridge shows
    weights = [1 / (rank + 1) ** 1.1 for rank in range(len(used))]
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    rows: list[dict] = []
    for user in people:
        activity = ACTIVITY.get(user.email, 0.0)
        for day in range(HISTORY_DAYS, 0, -1):
            when = now - timedelta(days=day)
            if when.weekday() >= 5 or rng.random() > activity:
                continue
            rows.extend(_session(user, when.replace(hour=rng.randint(8, 17)), used, weights, rng))
    return rows


def _session(user: User, start: datetime, used: list[Asset], weights: list[float],
             rng: random.Random) -> list[dict]:
    """One sitting before a call: a search or two, then opening, downloading or copying."""
    rows = []
    at = start
    if rng.random() < 0.6:
        query = rng.choice(SEARCHES)
        hits = _naive_hits(query, used)
        search_id = f"{rng.getrandbits(64):016x}"
        rows.append(usage.event_row("search", user=user, at=at, search_id=search_id, query=query,
                                    results=len(hits), sort="relevance"))
        if hits and rng.random() < 0.7:
            at += timedelta(seconds=rng.randint(5, 60))
            rows.append(usage.event_row("search_click", user=user, asset=hits[0], at=at,
                                        search_id=search_id, position=1))
    for asset in rng.choices(used, weights=weights, k=rng.randint(1, 3)):
        at += timedelta(minutes=rng.randint(1, 9))
        version = asset.current_version
        rows.append(usage.event_row("view", user=user, asset=asset, version=version, at=at))
        if asset.body and rng.random() < 0.5:
            rows.append(usage.event_row("copy", user=user, asset=asset, at=at + timedelta(seconds=30)))
        elif version and rng.random() < 0.45:
            rows.append(usage.event_row("download", user=user, asset=asset, version=version,
                                        at=at + timedelta(seconds=20)))
    return rows


def _naive_hits(query: str, candidates: list[Asset]) -> list[Asset]:
    """Assets whose title, tags or description hold every word of the query."""
    words = query.lower().split()
    return [a for a in candidates
            if all(w in f"{a.title} {' '.join(a.tags)} {a.description}".lower() for w in words)]
