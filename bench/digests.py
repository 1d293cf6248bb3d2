"""Notification producers and weekly digests at scale: 1,000 reps, 20 content owners, 10,000 assets,
a week's worth of new and updated assets and a year of usage events by default.

Usage: .venv/bin/python bench/digests.py [--reps 1000] [--owners 20] [--assets 10000] [--new 100]
       [--updated 50] [--events 1000000] [--runs 5]

Prints the time of each step of a weekly run as `flask notifications send-digests` does it (the two
producers, then building and sending every digest through a local SMTP server), the re-runs that must
find nothing to do, and each one's ratio to a baseline measured in the same run: one plain SELECT of
the digest items the digests are built from.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("BRIDGE_SECRET_KEY", "bench")

import seed  # noqa: E402  (bench/seed.py, beside this script)
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import bindparam, func, select, update  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.library import notices  # noqa: E402
from app.models import Asset, DigestItem, Notification, user_segment, utcnow  # noqa: E402
from app.notifications import digests  # noqa: E402
from tests.mailbox import SmtpServer  # noqa: E402

PASSWORD = "bench-password"


def timed(fn) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn()
    return (time.perf_counter() - started) * 1000, result


def median_ms(fn, runs: int) -> float:
    fn()
    return statistics.median(timed(fn)[0] for _ in range(runs))


def populate(args, rng: random.Random) -> None:
    """Reps in 10 teams (30 % chose 1–2 segments, the rest follow what they used), owners sharing the
    assets, review dates spread over the last 120 days (about a quarter overdue), `--new` assets
    created and `--updated` changed in the last 7 days, and usage events over a year."""
    term_ids, stage_ids = seed.add_taxonomy()
    teams = seed.add_teams([f"Team {n}" for n in range(10)])
    owners = seed.add_users([(f"owner{n}@bench.example", f"Owner {n:02d}", "marketer", None)
                             for n in range(args.owners)], PASSWORD)
    reps = seed.add_users([(f"rep{n}@bench.example", f"Rep {n:04d}", "rep", teams[n % 10])
                           for n in range(args.reps)], PASSWORD)
    total = args.assets + args.new
    seed.add_assets(range(1, total + 1), owners[0][0], term_ids, stage_ids, rng)
    now = utcnow()
    with db.engine.begin() as conn:
        for n, (owner_id, _) in enumerate(owners):
            conn.execute(update(Asset).where(Asset.id % len(owners) == n).values(owner_id=owner_id,
                                                                             updated_at=Asset.updated_at))
    table = Asset.__table__
    with db.engine.begin() as conn:
        conn.execute(update(table).where(table.c.id == bind("id")).values(
            verified_at=bind("at"), review_interval_days=90, updated_at=table.c.updated_at),
            [dict(b_id=a, b_at=now - timedelta(days=rng.uniform(0, 120))) for a in range(1, total + 1)])
        fresh = [dict(b_id=a, b_at=now - timedelta(days=rng.uniform(0, 7)))
                 for a in range(args.assets + 1, total + 1)]
        conn.execute(update(table).where(table.c.id == bind("id")).values(created_at=bind("at"),
                                                                          updated_at=bind("at")), fresh)
        changed = [dict(b_id=a, b_at=now - timedelta(days=rng.uniform(0, 7)))
                   for a in rng.sample(range(1, args.assets + 1), args.updated)]
        conn.execute(update(table).where(table.c.id == bind("id")).values(updated_at=bind("at")), changed)
    chosen = rng.sample(reps, int(len(reps) * 0.3))
    seed.insert_rows(user_segment, [dict(user_id=rep, term_id=t) for rep, _ in chosen
                                    for t in rng.sample(term_ids, rng.randint(1, 2))])
    started = time.perf_counter()
    seed.add_events(args.events, reps, list(range(1, args.assets + 1)), rng)
    print(f"  {args.events:,} events inserted in {time.perf_counter() - started:.0f} s")
    seed.analyze()


def bind(name: str):
    """A parameter of an executemany UPDATE (prefixed: SQLAlchemy keeps column names for SET)."""
    return bindparam(f"b_{name}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--owners", type=int, default=20)
    parser.add_argument("--assets", type=int, default=10_000)
    parser.add_argument("--new", type=int, default=100)
    parser.add_argument("--updated", type=int, default=50)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="bridge-bench-digests-"))
    print(f"Data directory: {data_dir}")
    app = create_app({"DATA_DIR": data_dir, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{data_dir / 'bench.db'}",
                      "FILES_DIR": data_dir / "files", "PUBLIC_URL": "https://bridge.bench.example"})
    with app.app_context(), SmtpServer() as smtp:
        app.config["SMTP_URL"] = smtp.url
        upgrade()
        print(f"Populating {args.reps:,} reps, {args.owners} owners, {args.assets:,} + {args.new} new assets "
              f"({args.updated} updated this week), {args.events:,} events…")
        populate(args, random.Random(18))
        now = utcnow()
        rows = []
        ms, review = timed(lambda: notices.review_due(now.date()))
        rows.append(("producer: review due (first run)", ms, f"{review:,} notices"))
        ms, new = timed(lambda: notices.new_content(now))
        rows.append(("producer: new content (first run)", ms, f"{new:,} notices"))
        rows.append(("producers again (nothing new)", median_ms(lambda: notices.scan(now), args.runs), ""))
        ms, pending = timed(lambda: digests.pending(now))
        rows.append(("digests: find and group", ms, f"{len(pending):,} digests"))
        ms, _ = timed(lambda: [digests.build(d) for d in pending])
        rows.append(("digests: build mails (text + HTML)", ms, f"{ms / max(1, len(pending)):.2f} ms per mail"))
        ms, summary = timed(lambda: digests.send_weekly(now))
        rows.append(("send_weekly (find, build, record, SMTP)", ms, f"{summary.sent:,} mails sent"))
        rows.append(("send_weekly again (sends nothing)", median_ms(lambda: digests.send_weekly(now), args.runs), ""))
        items = db.session.scalar(select(func.count()).select_from(DigestItem))
        table = DigestItem.__table__
        baseline = median_ms(lambda: db.session.connection().execute(
            select(table.c.id, table.c.user_id, table.c.kind, table.c.message, table.c.link)).all(), args.runs)
        shown = db.session.scalar(select(func.count()).select_from(Notification))
        print(f"\n{items:,} digest items, {shown:,} in-app notifications")
        print(f"Baseline: one plain SELECT of the {items:,} digest items {baseline:.1f} ms\n")
        print(f"{'step':<44}{'ms':>10}{'× SELECT':>10}  note")
        for name, ms, note in rows:
            print(f"{name:<44}{ms:>10.1f}{ms / baseline:>10.1f}  {note}")


if __name__ == "__main__":
    main()
