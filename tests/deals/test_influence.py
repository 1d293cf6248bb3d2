"""Influence equals a recount: a seeded random world of deals (closed in and out of the range, in
several cells) and events (sent before and after closing, other kinds, no deal) is written through the
services; the expected figures, the 95% interval included, are recounted here from the Python lists
by the definitions in app/insights/influence.py's docstring, never by calling it."""
from __future__ import annotations

import math
import random
from collections import defaultdict
from datetime import datetime, time, timedelta

from app import usage
from app.library import taxonomy
from app.models import utcnow
from tests.conftest import login
from tests.deals.conftest import new_deal
from tests.insights.reading import csv_rows, html_table

Z = 1.959963984540054
INDUSTRIES = ["Healthcare", "Retail", "Manufacturing"]
SIZES = ["Mid-Market", "Enterprise"]
STAGES = ["Consideration", "Decision"]


def wilson_by_quadratic(won: int, n: int) -> tuple[float, float]:
    """The two p where (p̂ − p)² = z²·p(1 − p)/n: Wilson's score interval, solved as a quadratic."""
    p_hat = won / n
    a = 1 + Z * Z / n
    b = -(2 * p_hat + Z * Z / n)
    c = p_hat * p_hat
    root = math.sqrt(b * b - 4 * a * c)
    return (-b - root) / (2 * a), (-b + root) / (2 * a)


def newcombe(won1: int, n1: int, won2: int, n2: int) -> tuple[float, float, float]:
    p1, p2 = won1 / n1, won2 / n2
    (l1, u1), (l2, u2) = wilson_by_quadratic(won1, n1), wilson_by_quadratic(won2, n2)
    return p1 - p2, p1 - p2 - math.hypot(p1 - l1, u2 - p2), p1 - p2 + math.hypot(u1 - p1, p2 - l2)


def build_world(team, make_asset, rng: random.Random):
    assets = [make_asset(f"Asset {n:02d}", terms=[rng.choice(INDUSTRIES)]) for n in range(8)]
    owners = [team["riley"], team["jordan"], team["taylor"]]
    accounts = [(f"Account {n}", [rng.choice(INDUSTRIES)] + rng.sample(SIZES, rng.randint(0, 1))) for n in range(12)]
    now = utcnow()
    deals, events = [], []
    for n in range(70):
        name, terms = rng.choice(accounts)
        status = rng.choices(["won", "lost", "open"], weights=[3, 3, 1])[0]
        closed_at = now - timedelta(days=rng.uniform(0.2, 110)) if status != "open" else None
        deal = new_deal(rng.choice(owners), f"D{n}", account=name, terms=terms, stage=rng.choice(STAGES),
                        status=status, at=closed_at)
        deals.append({"id": deal.id, "terms": set(terms), "stage": deal.stage.name, "status": status,
                      "closed_at": deal.closed_at, "owner": deal.owner_id})
        for _ in range(rng.randint(0, 5)):
            kind = rng.choice(["share", "customize", "share", "view", "rate", "share_open", "share_page",
                               "share_download"])
            asset = rng.choice(assets)
            base = deal.closed_at or now
            at = base - timedelta(days=rng.uniform(-3, 20))
            events.append({"kind": kind, "asset": asset.id, "deal": deal.id, "at": min(at, now)})
            usage.record([usage.event_row(kind, user=deal.owner, asset=asset, opportunity=deal.id, at=min(at, now))])
    usage.record([usage.event_row("share", user=team["riley"], asset=assets[0], at=now)])  # no deal
    rare = make_asset("Rarely sent")  # in one closed deal: below the sample, its counts still shown
    target = next(d for d in deals if d["closed_at"] and d["closed_at"] > now - timedelta(days=60))
    at = target["closed_at"] - timedelta(hours=1)
    events.append({"kind": "share", "asset": rare.id, "deal": target["id"], "at": at})
    usage.record([usage.event_row("share", user=team["riley"], asset=rare, opportunity=target["id"], at=at)])
    return {a.id: a.title for a in [*assets, rare]}, deals, events


def expected_influence(titles, deals, events, owners=None, days=90):
    today = utcnow().date()
    end = datetime.combine(today + timedelta(days=1), time())
    start = end - timedelta(days=days)
    closed = {d["id"]: d for d in deals if d["status"] in ("won", "lost") and start <= d["closed_at"] < end
              and (owners is None or d["owner"] in owners)}
    cells = {i: {(t, d["stage"]) for t in d["terms"]} for i, d in closed.items()}
    with_deals = defaultdict(set)
    for e in events:
        deal = closed.get(e["deal"])
        if deal and e["kind"] in ("share", "customize") and e["at"] <= deal["closed_at"]:
            with_deals[e["asset"]].add(e["deal"])
    opened = defaultdict(set)
    for e in events:
        deal = closed.get(e["deal"])
        if deal and e["kind"] in ("share_open", "share_page", "share_download") and e["at"] <= deal["closed_at"]:
            opened[e["asset"]].add(e["deal"])
    expected = {}
    for asset_id in with_deals.keys() | opened.keys():
        used = with_deals.get(asset_id, set())
        asset_cells = set().union(set(), *(cells[d] for d in used))
        without = {i for i in closed if i not in used and cells[i] & asset_cells}
        won_with = sum(closed[d]["status"] == "won" for d in used)
        won_without = sum(closed[d]["status"] == "won" for d in without)
        buyer = opened.get(asset_id, set())
        won_opened = sum(closed[d]["status"] == "won" for d in buyer)
        row = [titles[asset_id], str(len(used)), str(won_with), "", str(len(without)), str(won_without), "", "", "", "",
               str(len(buyer)), str(won_opened), str(len(buyer) - won_opened),
               f"{won_opened / len(buyer):.0%}" if len(buyer) >= 5 else ""]
        if len(used) >= 5 and len(without) >= 5:
            difference, low, high = newcombe(won_with, len(used), won_without, len(without))
            row[3] = f"{won_with / len(used):.0%}"
            row[6] = f"{won_without / len(without):.0%}"
            row[7:10] = [f"{x * 100:+.1f}" for x in (difference, low, high)]
        expected[titles[asset_id]] = row
    return expected, closed


def test_influence_equals_recount_with_its_interval(app, team, make_asset, client_of):
    taxonomy.ensure_dimension("Company size", SIZES)
    titles, deals, events = build_world(team, make_asset, random.Random(5))
    expected, closed = expected_influence(titles, deals, events)
    marketer = client_of(team["mara"])
    rows = csv_rows(marketer, "/insights/influence?days=90&format=csv")
    assert rows[0][7:] == ["Difference (pts)", "95% low (pts)", "95% high (pts)", "Buyer opened (deals)", "Won opened",
                           "Lost opened", "Win rate opened"]
    got = {r[0]: r for r in rows[1:]}
    assert got == expected
    assert sum(bool(r[7]) for r in expected.values()) >= 2, "the world should put assets above the sample"
    assert any(not r[7] for r in expected.values()), "and some below it, counts still shown"
    assert any(r[13] for r in expected.values()), "some assets opened by buyers in enough deals for a rate"
    shown = [r for r in rows[1:] if r[7]]
    assert [r[0] for r in shown] == [r[0] for r in sorted(shown, key=lambda r: (-float(r[7]), -int(r[1]), r[0]))]
    page = marketer.get("/insights/influence?days=90").get_data(as_text=True)
    assert html_table(page, "influence") == rows
    assert_cells_equal_recount(marketer, titles, closed, events)
    won = sum(d["status"] == "won" for d in closed.values())
    assert f"{len(closed)} deals closed in this period, {won} won" in page


def assert_cells_equal_recount(browser, titles, closed, events):
    """Per cell (term × stage): closed deals, won, and the assets sent most in its won and lost deals."""
    order = {name: n for n, name in enumerate(INDUSTRIES + SIZES)}
    stages = {name: n for n, name in enumerate(["Awareness", *STAGES])}
    sent = defaultdict(set)
    for e in events:
        deal = closed.get(e["deal"])
        if deal and e["kind"] in ("share", "customize") and e["at"] <= deal["closed_at"]:
            sent[e["deal"]].add(titles[e["asset"]])
    cells = defaultdict(list)
    for deal in closed.values():
        for term in deal["terms"]:
            cells[(term, deal["stage"])].append(deal)

    def most(deals):
        counted = defaultdict(int)
        for deal in deals:
            for title in sent[deal["id"]]:
                counted[title] += 1
        return "; ".join(f"{t} ({n})" for t, n in sorted(counted.items(), key=lambda c: (-c[1], c[0]))[:3])

    expected = [[term, stage, str(len(deals)), str(sum(d["status"] == "won" for d in deals)),
                 f"{sum(d['status'] == 'won' for d in deals) / len(deals):.0%}",
                 most([d for d in deals if d["status"] == "won"]), most([d for d in deals if d["status"] == "lost"])]
                for (term, stage), deals in sorted(cells.items(), key=lambda kv: (order[kv[0][0]], stages[kv[0][1]]))]
    assert csv_rows(browser, "/insights/influence?days=90&format=csv&table=influence-cells")[1:] == expected


def test_a_manager_sees_the_influence_of_the_teams_deals(app, team, make_asset, client_of):
    taxonomy.ensure_dimension("Company size", SIZES)
    titles, deals, events = build_world(team, make_asset, random.Random(9))
    east = {team["riley"].id, team["jordan"].id}
    expected, _ = expected_influence(titles, deals, events, owners=east)
    manager = app.test_client()
    login(manager, team["dana"].email)
    rows = csv_rows(manager, "/insights/influence?days=90&format=csv")[1:]
    assert {r[0]: r for r in rows} == expected


def test_interval_formula_matches_newcombes_worked_example():
    """Newcombe (1998), Table II, example (a): 56/70 vs 48/80 gives 0.0524 to 0.3339 by method 10."""
    from app.insights.influence import difference_interval

    difference, low, high = difference_interval(56, 70, 48, 80)
    assert round(difference, 4) == 0.2 and round(low, 4) == 0.0524 and round(high, 4) == 0.3339
