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
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("BRIDGE_SECRET_KEY", "bench")

import seed  # noqa: E402  (bench/seed.py, beside this script)
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from app import create_app, rollups, tune_garbage_collector, usage  # noqa: E402
from app.extensions import db  # noqa: E402
from app.insights import content, feedback, finding, influence, people, searches, use  # noqa: E402
from app.insights.scope import last_days  # noqa: E402
from app.models import Asset, Team, UsageEvent, User  # noqa: E402

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
        term_ids, stage_ids = seed.add_taxonomy()
        teams = seed.add_teams([f"Team {n}" for n in range(5)])
        people = seed.add_users(
            [("marketer@bench.example", "Marketer", "marketer", None),
             ("manager@bench.example", "Manager", "manager", teams[0])]
            + [(f"rep{n}@bench.example", f"Rep {n:02d}", "rep", teams[n % 5]) for n in range(50)], PASSWORD)
        (marketer_id, _), reps = people[0], people[2:]
        seed.add_assets(range(1, assets + 1), marketer_id, term_ids, stage_ids, rng)
        took = seed.add_events(events, reps, list(range(1, assets + 1)), rng)
        print(f"  {events:,} events inserted in {took:.0f} s")
        started = time.perf_counter()  # inserted around the writer: the summaries recounted as migration 0018 does
        counts = rollups.rebuild_all()
        print(f"  summaries recounted from the log in {time.perf_counter() - started:.0f} s: {counts}")
        seed.add_ratings(reps, range(1, assets + 1), rng)
        seed.analyze()


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
                                 ("content_gaps", searches.content_gaps), ("influence", influence.influence),
                                 ("time_to_find", finding.time_to_find)]:
                    ms = median_ms(lambda fn=fn, scope=scope: fn(scope), runs)
                    print(f"{name:<34}{f'{days} days, {label}':<22}{ms:>10.1f}{ms / baseline:>8.2f}")
    bench_pages(app, runs, baseline)


def bench_pages(app, runs: int, baseline: float) -> None:
    """Whole requests, each in its own app context as a server runs them."""
    pages = ["/insights/", "/insights/usage", "/insights/ignored", "/insights/coverage", "/insights/adoption",
             "/insights/ratings", "/insights/gaps", "/insights/finding", "/insights/influence", "/insights/shares"]
    print(f"\n{'page (server time, HTML rendered)':<34}{'who':<22}{'median ms':>10}{'× pass':>8}{'CPU ms':>8}")
    for who in ("marketer@bench.example", "manager@bench.example"):
        client = app.test_client()
        login(client, who)
        for days in (30, 90):
            for path in pages:
                url = f"{path}?days={days}"
                cpu = []

                def get(client=client, url=url, cpu=cpu):
                    started = time.process_time()
                    client.get(url)
                    cpu.append((time.process_time() - started) * 1000)
                ms = median_ms(get, runs)
                print(f"{url:<34}{who.split('@')[0]:<22}{ms:>10.1f}{ms / baseline:>8.2f}"
                      f"{statistics.median(cpu[1:]):>8.1f}")


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
    app = create_app({"DATA_DIR": data, "FILES_DIR": data / "files",
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
