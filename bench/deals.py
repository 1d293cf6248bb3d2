"""Deals speed: recommendations for one deal and the influence page, at 10,000 assets, 10,000
opportunities and 1,000,000 usage events by default.

Usage: .venv/bin/python bench/deals.py [--assets 10000] [--opportunities 10000] [--events 1000000] [--runs 7]
       [--data-dir DIR]  (a directory a previous run populated, printed at its start: measured again as it is)
       [--before REV]  (the commit whose recommend.py and influence.py are "before"; default a3152f1,
                        main before `deal_asset`: they scan the event log)

Prints the median time of `deals.recommend.recommend` for a rep's deal (over several deals) and of
`insights.influence.influence` over 90 and 365 days, each as the code at REV computes it and as this
code does (from `deal_asset`), with the ratio before / after and to one full pass over the event log,
all measured in the same run; then the whole server time of a deal page and of the influence page.
"""
from __future__ import annotations

import argparse
import importlib.util
import itertools
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("BRIDGE_SECRET_KEY", "bench")

import seed  # noqa: E402  (bench/seed.py, beside this script)
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from app import create_app, usage  # noqa: E402
from app.deals import recommend  # noqa: E402
from app.extensions import db  # noqa: E402
from app.insights import influence  # noqa: E402
from app.insights.scope import last_days  # noqa: E402
from app.models import Account, Opportunity, Term, UsageEvent, User, account_term, utcnow  # noqa: E402

PASSWORD = "bench-password"
KINDS = [("view", 40), ("download", 10), ("share", 15), ("customize", 8), ("search", 20), ("copy", 7)]


def median_ms(fn, runs: int) -> float:
    return timed(fn, runs)[0]


def timed(fn, runs: int) -> tuple[float, float]:
    """Median wall and CPU milliseconds of `fn` (after one warm-up call). On a shared machine the CPU
    time is what the code costs; the wall time adds the wait for a core."""
    fn()
    walls, cpus = [], []
    for _ in range(runs):
        started, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append((time.perf_counter() - started) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return statistics.median(walls), statistics.median(cpus)


def populate(assets: int, opportunities: int, events: int, rng: random.Random) -> None:
    """Taxonomy, 5 teams of 10 reps, live assets, accounts with 1–2 terms, a year of opportunities
    (about a third closed) and events, 60% of the non-search ones naming a deal of their rep."""
    term_ids, stage_ids = seed.add_taxonomy()
    teams = seed.add_teams([f"Team {n}" for n in range(5)])
    people = seed.add_users([("marketer@bench.example", "Marketer", "marketer", None)]
                            + [(f"rep{n}@bench.example", f"Rep {n:02d}", "rep", teams[n % 5]) for n in range(50)],
                            PASSWORD)
    (marketer_id, _), reps = people[0], people[1:]
    seed.add_assets(range(1, assets + 1), marketer_id, term_ids, stage_ids, rng)
    now = utcnow()
    account_count = max(1, opportunities // 4)
    seed.insert_rows(Account, [dict(id=n, name=f"Account {n}", external_id=f"A{n}", created_at=now, updated_at=now)
                               for n in range(1, account_count + 1)])
    seed.insert_rows(account_term, [dict(account_id=n, term_id=t) for n in range(1, account_count + 1)
                                    for t in rng.sample(term_ids, rng.randint(1, 2))])
    deals, by_rep = [], {}
    for n in range(1, opportunities + 1):
        owner, _ = rng.choice(reps)
        created = now - timedelta(days=rng.uniform(1, 365))
        status = rng.choices(["open", "won", "lost"], weights=[2, 0.5, 0.5])[0]
        closed = created + timedelta(days=rng.uniform(1, 60)) if status != "open" else None
        closed = min(closed, now) if closed else None
        deals.append(dict(id=n, external_id=f"O{n}", name=f"Deal {n}", account_id=rng.randint(1, account_count),
                          stage_id=rng.choice(stage_ids), amount_minor=100_000, currency="USD", owner_id=owner,
                          status=status, closed_at=closed, created_at=created, updated_at=now))
        by_rep.setdefault(owner, []).append(n)
    seed.insert_rows(Opportunity, deals)
    names, weights = zip(*KINDS, strict=True)
    kind_weights = list(itertools.accumulate(weights))
    popular = list(itertools.accumulate(seed.zipf_weights(assets)))
    asset_ids = range(1, assets + 1)
    started = time.perf_counter()
    for chunk in range(0, events, seed.CHUNK):
        batch = []
        for _ in range(min(seed.CHUNK, events - chunk)):
            user_id, team_id = rng.choice(reps)
            kind = rng.choices(names, cum_weights=kind_weights)[0]
            deal = rng.choice(by_rep[user_id]) if kind != "search" and user_id in by_rep and rng.random() < 0.6 \
                else None
            batch.append({"created_at": now - timedelta(seconds=rng.randint(0, 365 * 86400)), "kind": kind,
                          "user_id": user_id, "team_id": team_id, "context": {}, "version_id": None,
                          "asset_id": rng.choices(asset_ids, cum_weights=popular)[0] if kind != "search" else None,
                          "search_id": None, "opportunity_id": deal})
        seed.insert_rows(UsageEvent, batch)
    print(f"  {events:,} events inserted in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()  # rows inserted around the writer: deal_asset recounted as migration 0016 does
    print(f"  deal_asset: {usage.rebuild_deal_assets():,} rows recounted from the log in "
          f"{time.perf_counter() - started:.1f} s")
    seed.analyze()


def module_at(revision: str, path: str, name: str):
    """The module at `path` as it was at `revision` (git), loaded beside today's code under `name`."""
    root = Path(__file__).resolve().parent.parent
    source = subprocess.run(["git", "-C", str(root), "show", f"{revision}:{path}"], check=True,
                            capture_output=True, text=True).stdout
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(name, loader=None))
    sys.modules[name] = module  # dataclasses look their module up
    exec(compile(source, f"{revision}:{path}", "exec"), module.__dict__)  # noqa: S102 (our own history)
    return module


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--assets", type=int, default=10_000)
    parser.add_argument("--opportunities", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--before", default="a3152f1")
    args = parser.parse_args()
    reuse = args.data_dir is not None and (args.data_dir / "bench.db").is_file()
    data_dir = args.data_dir if reuse else Path(tempfile.mkdtemp(prefix="bridge-bench-deals-"))
    print(f"Data directory: {data_dir}")
    app = create_app({"DATA_DIR": data_dir, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{data_dir / 'bench.db'}",
                      "FILES_DIR": data_dir / "files"})
    with app.app_context():
        upgrade()
        if not reuse:
            print(f"Populating {args.assets:,} assets, {args.opportunities:,} opportunities, {args.events:,} events…")
            populate(args.assets, args.opportunities, args.events, random.Random(20))
        baseline = median_ms(lambda: db.session.execute(
            select(func.count(), func.max(UsageEvent.created_at))).one(), args.runs)
        print(f"\nBaseline: one full pass over the event log (count, max) {baseline:.1f} ms")
        old_recommend = module_at(args.before, "app/deals/recommend.py", "before_recommend")
        old_influence = module_at(args.before, "app/insights/influence.py", "before_influence")
        print(f"Before: {args.before} (reads the event log); after: this code (reads deal_asset)\n")
        open_deals = list(db.session.scalars(select(Opportunity).join(Account).join(
            account_term, account_term.c.account_id == Account.id).join(Term, Term.id == account_term.c.term_id)
            .where(Opportunity.status == "open").order_by(Opportunity.id).limit(9)))

        def per_deal(module):
            times = []
            for deal in open_deals:
                owner = db.session.get(User, deal.owner_id)
                times.append(timed(lambda deal=deal, owner=owner: module.recommend(owner, deal), args.runs))
            return statistics.median(t[0] for t in times), statistics.median(t[1] for t in times)

        def row(label, before, after):
            print(f"{label:<40}{before[0]:>10.1f}{after[0]:>10.1f}{before[0] / after[0]:>14.1f}"
                  f"{after[0] / baseline:>14.2f}{after[1]:>14.1f}")

        def agree(deal):  # the summary must give what the log gives
            owner = db.session.get(User, deal.owner_id)
            return [[(r.asset.id, r.reason, r.sent) for r in m.recommend(owner, deal)]
                    for m in (old_recommend, recommend)]

        def influence_rows(module, days):
            return [(a.id, a.deals_with, a.won_with, a.deals_without, a.won_without)
                    for a in module.influence(last_days(days)).assets]

        same = all(a == b for a, b in map(agree, open_deals)) and all(
            influence_rows(old_influence, d) == influence_rows(influence, d) for d in (90, 365))
        print(f"Before and after give the same recommendations and influence: {'yes' if same else 'NO'}\n")
        print(f"{'query':<40}{'before ms':>10}{'after ms':>10}{'before/after':>14}{'after × pass':>14}"
              f"{'after CPU ms':>14}")
        row("recommend (one deal, median of 9 deals)", per_deal(old_recommend), per_deal(recommend))
        for days in (90, 365):
            row(f"influence ({days} days, everyone)",
                timed(lambda days=days: old_influence.influence(last_days(days)), args.runs),
                timed(lambda days=days: influence.influence(last_days(days)), args.runs))
        print()
        bench_pages(app, args.runs, baseline, open_deals[0])


def bench_pages(app, runs: int, baseline: float, deal: Opportunity) -> None:
    """Whole requests as a server answers them (test client, HTML rendered)."""
    import re

    owner_email = db.session.get(User, deal.owner_id).email
    for who, path in ((owner_email, f"/deals/{deal.id}"), ("marketer@bench.example", "/insights/influence?days=90")):
        client = app.test_client()
        with app.app_context():  # each request in its own context, as a server runs them
            token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/login").get_data(as_text=True))[1]
        with app.app_context():
            client.post("/login", data={"email": who, "password": PASSWORD, "csrf_token": token})

        def fetch(path=path, client=client):
            with app.app_context():
                assert client.get(path).status_code == 200

        ms, cpu = timed(fetch, runs)
        print(f"{'page ' + path.split('?')[0] + ' (after)':<40}{'':>10}{ms:>10.1f}{'':>14}{ms / baseline:>14.2f}"
              f"{cpu:>14.1f}")


if __name__ == "__main__":
    main()
