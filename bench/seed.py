"""Synthetic libraries for the benchmarks, written straight into the models' tables.

Rows go in with SQLAlchemy Core `insert(...)` executemany: the ORM would spend minutes on a
million events, and the benchmarks time the pages, not the loading. The search index is not
touched here: run `flask search reindex` (or `SearchIndex.rebuild`) after seeding.
"""
from __future__ import annotations

import itertools
import random
import secrets
import time
from datetime import timedelta

from sqlalchemy import insert, select, text
from werkzeug.security import generate_password_hash

from app.extensions import db
from app.models import (
    Asset,
    AssetVersion,
    Collection,
    CollectionItem,
    Dimension,
    GeneratedDocument,
    Rating,
    ShareLink,
    Stage,
    Team,
    Term,
    UsageEvent,
    User,
    asset_stage,
    asset_term,
    utcnow,
)

DOMAIN = ("roi cost total ownership payback healthcare hospital patient retail store manufacturing "
          "plant downtime compliance audit security onboarding renewal pricing discount competitor "
          "integration workflow automation analytics forecast staffing capacity checklist proposal "
          "executive summary case study deployment cloud migration risk governance").split()
# The taxonomy terms in order (ids 1–6 in a new library: the segments of before issue 16, whose ids
# migration 0008 kept), and the dimension of each.
TERMS = [("Industry", "Healthcare"), ("Industry", "Financial Services"), ("Industry", "Retail"),
         ("Industry", "Manufacturing"), ("Industry", "Public Sector"), ("Company size", "Mid-Market")]
STAGES = ["Awareness", "Consideration", "Decision", "Onboarding", "Expansion"]
KINDS = ["brochure", "one_pager", "case_study", "slide_deck", "datasheet", "messaging", "battlecard"]
PRODUCTS = ["Insight", "Flow", "Shield", "Platform"]
EVENT_MIX = [("view", 38), ("download", 12), ("copy", 5), ("customize", 2), ("share", 2),
             ("search", 25), ("search_click", 14), ("rate", 1), ("flag", 1)]
QUERIES = [f"query {n}" for n in range(400)]
CHUNK = 20_000


def vocabulary(rng: random.Random, size: int = 6000) -> list[str]:
    """The domain words first, then `size` made-up words: ranks for a Zipf distribution."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = {"".join(rng.choice(letters) for _ in range(rng.randint(3, 10))) for _ in range(size)}
    return DOMAIN + sorted(words)


def zipf_weights(n: int, exponent: float = 1.05) -> list[float]:
    return [1 / (rank + 1) ** exponent for rank in range(n)]


def insert_rows(table, rows: list[dict]) -> None:
    """Insert `rows` into `table` (a model or a Table) in chunks, each in its own transaction."""
    table = getattr(table, "__table__", table)
    for start in range(0, len(rows), CHUNK):
        with db.engine.begin() as conn:
            conn.execute(insert(table), rows[start:start + CHUNK])


def add_taxonomy() -> tuple[list[int], list[int]]:
    """The benchmark's dimensions with their terms, and stages (those missing); returns the term and
    stage ids in order."""
    dimensions = list(dict.fromkeys(d for d, _ in TERMS))
    have = set(db.session.scalars(select(Dimension.name)))
    insert_rows(Dimension, [dict(name=d, position=i) for i, d in enumerate(dimensions, 1) if d not in have])
    dimension_ids = dict(db.session.execute(select(Dimension.name, Dimension.id)).all())
    have = set(db.session.execute(select(Term.dimension_id, Term.name)).all())
    insert_rows(Term, [dict(dimension_id=dimension_ids[d], name=n, position=i) for i, (d, n) in enumerate(TERMS, 1)
                       if (dimension_ids[d], n) not in have])
    have = set(db.session.scalars(select(Stage.name)))
    insert_rows(Stage, [dict(name=n, position=i) for i, n in enumerate(STAGES) if n not in have])
    return taxonomy_ids()


def taxonomy_ids() -> tuple[list[int], list[int]]:
    return ([*db.session.scalars(select(Term.id).order_by(Term.id))],
            [*db.session.scalars(select(Stage.id).order_by(Stage.position, Stage.id))])


def add_teams(names: list[str]) -> list[int]:
    insert_rows(Team, [dict(name=n) for n in names])
    return [db.session.scalar(select(Team.id).where(Team.name == n)) for n in names]


def add_users(people: list[tuple[str, str, str, int | None]], password: str) -> list[tuple[int, int | None]]:
    """(email, name, role, team id) rows sharing one password; returns (id, team id) in order."""
    hashed = generate_password_hash(password)
    insert_rows(User, [dict(email=e, name=n, role=r, team_id=t, password_hash=hashed) for e, n, r, t in people])
    ids = dict(db.session.execute(select(User.email, User.id).where(User.email.in_([p[0] for p in people]))).all())
    return [(ids[e], t) for e, _, _, t in people]


def add_assets(ids: range, owner_id: int, term_ids: list[int], stage_ids: list[int], rng: random.Random,
               vocab: list[str] | None = None, text_rng: random.Random | None = None) -> None:
    """Published assets with these ids, 1–2 taxonomy terms and stages each.

    With `vocab`, each also gets a title, a description and a file version of ~400 words drawn
    from it (Zipf-distributed, as in bench/search.py), from `text_rng` so that `rng` draws the
    same taxonomy whether or not there is text.
    """
    weights = zipf_weights(len(vocab)) if vocab else None
    year_ago = utcnow() - timedelta(days=365)
    assets, versions, terms, stgs = [], [], [], []
    for i in ids:
        row = dict(id=i, title=f"Asset {i:05d}", description="", kind=rng.choice(KINDS), product="",
                   tags=[], owner_id=owner_id, status="published", body="x", url="",
                   created_at=year_ago, updated_at=year_ago)
        terms += [dict(asset_id=i, term_id=t) for t in rng.sample(term_ids, rng.randint(1, 2))]
        stgs += [dict(asset_id=i, stage_id=s) for s in rng.sample(stage_ids, rng.randint(1, 2))]
        if vocab:
            row.update(title=" ".join(text_rng.choices(vocab[:400], k=5)).title(),
                       description=" ".join(text_rng.choices(vocab, weights=weights, k=20)),
                       product=text_rng.choice(PRODUCTS), tags=text_rng.sample(DOMAIN, 2), body="")
            versions.append(dict(asset_id=i, number=1, stored_name=f"bench-{i}.pdf", original_filename=f"{i}.pdf",
                                 file_type="pdf", mime_type="application/pdf", size_bytes=1000, sha256="0" * 64,
                                 page_count=2, created_at=year_ago,
                                 text=" ".join(text_rng.choices(vocab, weights=weights, k=400))))
        assets.append(row)
    insert_rows(Asset, assets)
    insert_rows(AssetVersion, versions)
    insert_rows(asset_term, terms)
    insert_rows(asset_stage, stgs)


def add_events(count: int, people: list[tuple[int, int | None]], asset_ids: list[int], rng: random.Random,
               days: int = 365) -> float:
    """`count` events over the last `days` days in time order (the EVENT_MIX kinds, by `people`);
    assets used Zipf-style, so many are never used. Returns the seconds it took."""
    kinds, weights = zip(*EVENT_MIX, strict=True)
    # Zipf use: a few assets used a lot, the long tail rarely or never (as in real libraries).
    popular = list(itertools.accumulate(1 / (rank + 1) ** 1.1 for rank in range(len(asset_ids))))
    kind_weights = list(itertools.accumulate(weights))
    asset_ids = list(asset_ids)
    rng.shuffle(asset_ids)
    started = time.perf_counter()
    now = utcnow()
    # A log is written in time order, so rows of one period sit together in the table.
    offsets = sorted((rng.randint(0, days * 86400) for _ in range(count)), reverse=True)
    for chunk in range(0, count, CHUNK):
        batch = []
        for offset in offsets[chunk:chunk + CHUNK]:
            user_id, team_id = rng.choice(people)
            kind = rng.choices(kinds, cum_weights=kind_weights)[0]
            at = now - timedelta(seconds=offset)
            asset = rng.choices(asset_ids, cum_weights=popular)[0] if kind != "search" else None
            context = {"query": rng.choice(QUERIES), "results": rng.choice([0, 1, 5, 20])} if kind == "search" else {}
            batch.append({"created_at": at, "kind": kind, "user_id": user_id, "team_id": team_id,
                          "asset_id": asset, "version_id": None, "context": context,
                          "search_id": f"{rng.getrandbits(64):016x}" if kind in ("search", "search_click") else None})
        insert_rows(UsageEvent, batch)
    return time.perf_counter() - started


def add_ratings(people: list[tuple[int, int | None]], asset_ids, rng: random.Random, count: int = 5000) -> None:
    """One rating on each of `count` assets sampled from `asset_ids`, by random people."""
    now = utcnow()
    insert_rows(Rating, [
        dict(user_id=rng.choice(people)[0], asset_id=a, stars=rng.randint(1, 5), comment="",
             account=f"Account {rng.randint(1, 400)}", outcome=rng.choice(["", "open", "won", "lost"]),
             created_at=now - timedelta(days=rng.randint(0, 365)), updated_at=now - timedelta(days=rng.randint(0, 90)))
        for a in rng.sample(asset_ids, min(len(asset_ids), count))])


def add_rep_history(user_id: int, team_id: int | None, asset_ids: list[int], rng: random.Random,
                    documents: int = 40, links: int = 60, collection_size: int = 30) -> None:
    """What a busy rep's own pages list: generated documents, share links opened by prospects
    (share_open / share_page events), and a large collection."""
    now = utcnow()
    insert_rows(GeneratedDocument, [
        dict(user_id=user_id, asset_id=rng.choice(asset_ids), template_version=1, account=f"Account {n}",
             title=f"Proposal for Account {n}", values={"account": f"Account {n}"},
             stored_name=f"bench-doc-{secrets.token_hex(8)}.pdf", page_count=2, size_bytes=50_000,
             created_at=now - timedelta(days=rng.randint(0, 90)))
        for n in range(documents)])
    document_ids = [*db.session.scalars(select(GeneratedDocument.id).where(GeneratedDocument.user_id == user_id))]
    insert_rows(ShareLink, [
        dict(token=secrets.token_urlsafe(24), user_id=user_id,
             asset_id=None if n % 3 == 0 else rng.choice(asset_ids),
             document_id=rng.choice(document_ids) if n % 3 == 0 and document_ids else None,
             recipient_name=f"Prospect {n}", recipient_email=f"prospect{n}@example.net", account=f"Account {n}",
             allow_download=True, created_at=now - timedelta(days=rng.randint(0, 60)))
        for n in range(links)])
    events = []
    for link_id, asset_id, created in db.session.execute(
            select(ShareLink.id, ShareLink.asset_id, ShareLink.created_at).where(ShareLink.user_id == user_id)):
        for _ in range(rng.randint(0, 4)):
            at = created + timedelta(hours=rng.randint(1, 200))
            events.append(dict(created_at=at, kind="share_open", asset_id=asset_id, context={"share_id": link_id}))
            events += [dict(created_at=at + timedelta(seconds=10 * page), kind="share_page", asset_id=asset_id,
                            context={"share_id": link_id, "page": page, "seconds": rng.randint(2, 60)})
                       for page in range(1, rng.randint(1, 3) + 1)]
    insert_rows(UsageEvent, sorted(events, key=lambda e: e["created_at"]))
    insert_rows(Collection, [dict(user_id=user_id, name="Everything for the big deal", created_at=now, updated_at=now)])
    collection_id = db.session.scalar(select(Collection.id).where(
        Collection.user_id == user_id, Collection.name == "Everything for the big deal"))
    insert_rows(CollectionItem, [dict(collection_id=collection_id, asset_id=a, position=n, added_at=now)
                                 for n, a in enumerate(rng.sample(asset_ids, collection_size))])


def analyze() -> None:
    """Fresh planner statistics, as a library that has been running a while would have."""
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
