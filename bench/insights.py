"""Insights speed at 10,000 assets and 1,000,000 usage events, and the cost of logging.

Usage: .venv/bin/python bench/insights.py [--assets 10000] [--events 1000000] [--runs 7]

Prints:
- each insights query's median time (30- and 90-day scopes; everyone, and one team as a
  manager sees it) and each insights page's whole server time (test client, HTML rendered),
  with the ratio to one full pass over the event log measured in the same run;
- what `log_event` costs a request (p50/p95 of the call) against inserting each event in its
  own transaction (the obvious way, and the baseline);
- sustained ingest through the writer: events/s from 4 threads and the number lost.
"""
from __future__ import annotations

import argparse
import itertools
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("BRIDGE_SECRET_KEY", "bench")

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, insert, select, text  # noqa: E402
from werkzeug.security import generate_password_hash  # noqa: E402

from app import (
    create_app,
    tune_garbage_collector,
    usage,  # noqa: E402
)
from app.extensions import db  # noqa: E402
from app.insights import content, feedback, people, searches, use
from app.insights.scope import last_days
from app.models import Asset, Rating, Segment, Stage, Team, UsageEvent, User, asset_segment, asset_stage, utcnow  # noqa: E402

SEGMENTS = ["Healthcare", "Financial Services", "Retail", "Manufacturing", "Public Sector", "Mid-Market"]
STAGES = ["Awareness", "Consideration", "Decision", "Onboarding", "Expansion"]
KINDS = ["brochure", "one_pager", "case_study", "slide_deck", "datasheet", "messaging", "battlecard"]
EVENT_MIX = [("view", 38), ("download", 12), ("copy", 5), ("customize", 2), ("share", 2),
             ("search", 25), ("search_click", 14), ("rate", 1), ("flag", 1)]
QUERIES = [f"query {n}" for n in range(400)]
PASSWORD = "bench-password"


def median_ms(fn, runs: int) -> float:
    fn()  # warm caches: the figures are for a server that has been up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def populate(app, assets: int, events: int, rng: random.Random) -> None:
    """Taxonomy, 5 teams of 10 reps, `assets` live assets, a year of `events` events, ratings."""
    with app.app_context():
        db.session.add_all([Segment(name=n, position=i) for i, n in enumerate(SEGMENTS)])
        db.session.add_all([Stage(name=n, position=i) for i, n in enumerate(STAGES)])
        teams = [Team(name=f"Team {n}") for n in range(5)]
        db.session.add_all(teams)
        hashed = generate_password_hash(PASSWORD)
        marketer = User(email="marketer@bench.example", name="Marketer", role="marketer", password_hash=hashed)
        manager = User(email="manager@bench.example", name="Manager", role="manager", password_hash=hashed,
                       team=teams[0])
        reps = [User(email=f"rep{n}@bench.example", name=f"Rep {n:02d}", role="rep", password_hash=hashed,
                     team=teams[n % 5]) for n in range(50)]
        db.session.add_all([marketer, manager, *reps])
        db.session.commit()
        year_ago = utcnow() - timedelta(days=365)
        rows, segs, stgs = [], [], []
        for i in range(1, assets + 1):
            rows.append(dict(id=i, title=f"Asset {i:05d}", description="", kind=rng.choice(KINDS), product="",
                             tags=[], owner_id=marketer.id, status="published", body="x", url="",
                             created_at=year_ago, updated_at=year_ago))
            segs += [dict(asset_id=i, segment_id=s) for s in rng.sample(range(1, 7), rng.randint(1, 2))]
            stgs += [dict(asset_id=i, stage_id=s) for s in rng.sample(range(1, 6), rng.randint(1, 2))]
        db.session.execute(insert(Asset), rows)
        db.session.execute(insert(asset_segment), segs)
        db.session.execute(insert(asset_stage), stgs)
        db.session.commit()

        kinds, weights = zip(*EVENT_MIX, strict=True)
        # Zipf use: a few assets used a lot, the long tail rarely or never (as in real libraries).
        popular = list(itertools.accumulate(1 / (rank + 1) ** 1.1 for rank in range(assets)))
        kind_weights = list(itertools.accumulate(weights))
        asset_ids = list(range(1, assets + 1))
        rng.shuffle(asset_ids)
        started = time.perf_counter()
        now = utcnow()
        # A log is written in time order, so rows of one period sit together in the table.
        offsets = sorted((rng.randint(0, 365 * 86400) for _ in range(events)), reverse=True)
        for chunk in range(0, events, 20_000):
            batch = []
            for offset in offsets[chunk:chunk + 20_000]:
                rep = rng.choice(reps)
                kind = rng.choices(kinds, cum_weights=kind_weights)[0]
                at = now - timedelta(seconds=offset)
                asset = rng.choices(asset_ids, cum_weights=popular)[0] if kind != "search" else None
                searched = kind in ("search", "search_click")
                context = {}
                if kind == "search":
                    context = {"query": rng.choice(QUERIES), "results": rng.choice([0, 1, 5, 20])}
                batch.append({"created_at": at, "kind": kind, "user_id": rep.id, "team_id": rep.team_id,
                              "asset_id": asset, "version_id": None, "context": context,
                              "search_id": f"{rng.getrandbits(64):016x}" if searched else None})
            usage.record(batch)
        print(f"  {events:,} events inserted in {time.perf_counter() - started:.0f} s")
        ratings = [dict(user_id=rng.choice(reps).id, asset_id=a, stars=rng.randint(1, 5), comment="",
                        account=f"Account {rng.randint(1, 400)}", outcome=rng.choice(["", "open", "won", "lost"]),
                        created_at=now - timedelta(days=rng.randint(0, 365)),
                        updated_at=now - timedelta(days=rng.randint(0, 90)))
                   for a in rng.sample(range(1, assets + 1), min(assets, 5000))]
        db.session.execute(insert(Rating), ratings)
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def login(client, email):
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', html)[1]
    assert client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token}).status_code == 302


def bench_queries(app, runs: int) -> None:
    with app.app_context():
        baseline = median_ms(lambda: db.session.execute(
            select(func.count(), func.max(UsageEvent.created_at))).one(), runs)
        team_id = db.session.scalar(select(Team.id).order_by(Team.id))
        print(f"\nBaseline: one full pass over the event log (count, max) {baseline:.1f} ms\n")
        print(f"{'query':<34}{'scope':<22}{'median ms':>10}{'× pass':>8}")
        for days in (30, 90):
            for label, team in (("everyone", None), ("one team", team_id)):
                scope = last_days(days, team_id=team)
                for name, fn in [("ignored", content.ignored), ("coverage", content.coverage),
                                 ("usage_report (top/bottom/per day)", use.usage_report),
                                 ("adoption", people.adoption), ("ratings_report", feedback.ratings_report),
                                 ("content_gaps", searches.content_gaps), ("influence", feedback.influence)]:
                    ms = median_ms(lambda fn=fn, scope=scope: fn(scope), runs)
                    print(f"{name:<34}{f'{days} days, {label}':<22}{ms:>10.1f}{ms / baseline:>8.2f}")
    bench_pages(app, runs, baseline)


def bench_pages(app, runs: int, baseline: float) -> None:
    """Whole requests, each in its own app context as a server runs them."""
    pages = ["/insights/", "/insights/usage", "/insights/ignored", "/insights/coverage", "/insights/adoption",
             "/insights/ratings", "/insights/gaps", "/insights/influence"]
    print(f"\n{'page (server time, HTML rendered)':<34}{'who':<22}{'median ms':>10}{'× pass':>8}")
    for who in ("marketer@bench.example", "manager@bench.example"):
        client = app.test_client()
        login(client, who)
        for path in pages:
            ms = median_ms(lambda client=client, path=path: client.get(path), runs)
            print(f"{path:<34}{who.split('@')[0]:<22}{ms:>10.1f}{ms / baseline:>8.2f}")


def bench_logging(app, calls: int) -> None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.role == "rep").limit(1))
        asset = db.session.get(Asset, 1)

        def timed(fn, n):
            times = []
            for _ in range(n):
                started = time.perf_counter()
                fn()
                times.append((time.perf_counter() - started) * 1000)
            times.sort()
            return times[len(times) // 2], times[int(len(times) * 0.95)]

        direct = timed(lambda: usage.record([usage.event_row("view", user=user, asset=asset)]), calls // 10)
        buffered = timed(lambda: usage.log_event("view", user=user, asset=asset), calls)
        usage.flush()
        print(f"\nLogging cost per request ({calls:,} calls)        p50 ms    p95 ms")
        print(f"{'own transaction per event (baseline)':<44}{direct[0]:>8.3f}{direct[1]:>10.3f}")
        print(f"{'log_event (buffered writer)':<44}{buffered[0]:>8.3f}{buffered[1]:>10.3f}"
              f"   p95 ratio {buffered[1] / direct[1]:.3f}")

        before = db.session.scalar(select(func.count()).select_from(UsageEvent))
        per_thread, threads = 50_000, 4

        def produce():
            with app.app_context():
                for _ in range(per_thread):
                    usage.log_event("view", user=user, asset=asset)

        started = time.perf_counter()
        workers = [threading.Thread(target=produce) for _ in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        usage.flush()
        elapsed = time.perf_counter() - started
        after = db.session.scalar(select(func.count()).select_from(UsageEvent))
        sent = per_thread * threads
        print(f"\nSustained ingest: {sent:,} events from {threads} threads written in {elapsed:.1f} s = "
              f"{sent / elapsed:,.0f} events/s; lost {sent - (after - before)}")
        print(f"(baseline, one transaction per event: {1000 / direct[0]:,.0f} events/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--log-calls", type=int, default=20_000)
    parser.add_argument("--keep", type=Path, help="build into (or reuse) this directory instead of a temporary one")
    parser.add_argument("--skip-logging", action="store_true", help="only the insights figures")
    parser.add_argument("--default-gc", action="store_true", help="measure without app/wsgi.py's GC tuning")
    args = parser.parse_args()
    out = Path(__file__).resolve().parent / "out"
    out.mkdir(exist_ok=True)
    if args.keep:
        run(args.keep.resolve(), args)
    else:
        with tempfile.TemporaryDirectory(dir=out) as tmp:
            run(Path(tmp), args)


def run(data: Path, args) -> None:
    built = (data / "bridge.db").exists()
    app = create_app({"DATA_DIR": data, "COLLATERAL_DIR": data / "files",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{data / 'bridge.db'}"})
    with app.app_context():
        upgrade()
    if not built:
        print(f"Building {args.assets:,} assets and {args.events:,} events…")
        populate(app, args.assets, args.events, random.Random(1))
    if not args.default_gc:
        tune_garbage_collector()  # as app/wsgi.py does for the served app
    bench_queries(app, args.runs)
    if not args.skip_logging:
        bench_logging(app, args.log_calls)
    app.extensions["usage_log"].close()


if __name__ == "__main__":
    main()
