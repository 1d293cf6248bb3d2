"""Insights must equal a recount of the event log.

A seeded random world (assets, reps in two teams, a few thousand events, ratings) is written
through the usage API; every expected figure below is recounted from that Python list by the
definitions in the README, never by calling the code under test.
"""
from __future__ import annotations

import io
import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pypdf
import pytest
from sqlalchemy import update

from app import usage
from app.database import transaction
from app.extensions import db
from app.library import flags, ratings
from app.models import Asset as AssetModel
from app.models import AssetKind, User, utcnow
from tests import databases
from tests.conftest import INDUSTRIES, STAGES, login, post_form, site
from tests.factories import new_asset, new_user
from tests.insights.reading import csv_rows, html_table
from tests.insights.writing import record_out_of_order

USE = {"view", "download", "copy", "customize", "share"}
QUERIES = ["ROI calculator", "roi  Calculator", "hipaa", "Spanish brochure", "fedramp", "pricing 2027", ""]
ACCOUNTS = [f"Account {n}" for n in range(14)]


@dataclass
class Event:
    kind: str
    at: datetime
    user: object
    asset: object = None
    search_id: str | None = None
    query: str | None = None
    results: int | None = None
    filters: dict | None = None


def window(days: int, today: date | None = None) -> tuple[datetime, datetime]:
    """[start, end) of the last `days` whole UTC days, today included."""
    today = today or utcnow().date()
    end = datetime.combine(today + timedelta(days=1), time())
    return end - timedelta(days=days), end


@dataclass(frozen=True)
class Term:
    id: int
    name: str


@dataclass(frozen=True, eq=False)
class Person:
    """A user as the world built them (tests compare people by identity, as events hold them)."""

    id: int
    name: str
    email: str
    team_id: int | None


@dataclass(frozen=True, eq=False)
class Item:
    id: int
    title: str
    kind: str
    status: str
    expires_on: date | None
    terms: tuple[Term, ...]
    stages: tuple[Term, ...]
    owner: Person


def person(user) -> Person:
    return Person(user.id, user.name, user.email, user.team_id)


def item(asset, owner: Person) -> Item:
    return Item(asset.id, asset.title, asset.kind, asset.status, asset.expires_on,
                tuple(Term(t.id, t.name) for t in asset.terms), tuple(Term(t.id, t.name) for t in asset.stages),
                owner)


def build_world() -> dict:
    """A seeded random world written through the services and the usage API, as plain values."""
    rng = random.Random(4711)
    kinds = ["brochure", "case_study", "one_pager", "email_template"]
    owner = person(new_user("world-marketer@example.com", "marketer", "Marketing"))
    assets = []
    for n in range(24):
        status = "draft" if n in (3, 7) else "archived" if n == 11 else "published"
        expires = utcnow().date() - timedelta(days=1) if n == 15 else None
        assets.append(item(new_asset(
            db.session.get(User, owner.id), f"Asset {n:02d}", kind=kinds[n % 4], status=status, expires_on=expires,
            terms=rng.sample(INDUSTRIES, rng.randint(1, 2)), stages=rng.sample(STAGES, rng.randint(1, 2))), owner))
    with transaction():  # the library predates its 120 days of history: no asset is new (glossary: ignored)
        db.session.execute(update(AssetModel).values(created_at=utcnow() - timedelta(days=150),
                                                     updated_at=AssetModel.updated_at))
    east = [person(new_user(f"world-east{n}@example.com", team="Team East")) for n in range(4)]  # the last: never
    west = [person(new_user(f"world-west{n}@example.com", team="Team West")) for n in range(2)]
    manager = person(new_user("world-manager@example.com", "manager", team="Team East"))
    active = east[:3] + west
    live_and_used = [a for a in assets if a.id % 5 != 0]  # some assets are never touched
    events: list[Event] = []
    now = utcnow()
    for _ in range(1800):
        user = rng.choice(active + [manager])
        at = now - timedelta(seconds=rng.randint(0, 120 * 86400))
        kind = rng.choices(["view", "download", "copy", "customize", "share", "search", "rate"],
                           weights=[30, 12, 6, 3, 3, 18, 2])[0]
        if kind == "search":
            sid = f"{rng.getrandbits(64):016x}"
            results = rng.choice([0, 0, 1, 3, 8])
            filters = rng.choice([{}, {"Industry": [rng.choice(INDUSTRIES)]}, {"stage": ["Decision"]}])
            events.append(Event("search", at, user, search_id=sid, query=rng.choice(QUERIES),
                                results=results, filters=filters))
            if results and rng.random() < 0.5:
                clicker = user if rng.random() < 0.85 else rng.choice(active)  # others' clicks do not count
                events.append(Event("search_click", at + timedelta(seconds=20), clicker,
                                    rng.choice(live_and_used), search_id=sid))
        else:
            events.append(Event(kind, at, user, rng.choice(live_and_used)))
    record_out_of_order([usage.event_row(  # clicks may come before their searches: counted all the same
        e.kind, user=e.user, asset=e.asset, at=e.at, search_id=e.search_id, query=e.query,
        results=e.results, filters=e.filters) for e in events], rng)

    rated = []
    for asset in rng.sample([a for a in assets if a.status == "published"], 12):
        for user in rng.sample(active + [manager], rng.randint(2, 6)):
            outcome = rng.choice(["", "open", "won", "lost", "won"])
            account = rng.choice(ACCOUNTS) if outcome else ""
            stars, comment = rng.randint(1, 5), rng.choice(["", "useful", "stale"])
            account = account.upper() if rng.random() < 0.2 else account
            when = now - timedelta(days=rng.randint(0, 60), minutes=rng.randint(0, 600))
            rating = ratings.rate(user, asset, stars, comment, account, outcome, at=when)
            events.append(Event("rate", when, user, asset))  # rating logs its event
            rated.append((user, asset, rating.stars, rating.account, outcome, when))
    return {"assets": assets, "events": events, "east": east, "west": west, "manager": manager,
            "ratings": rated}


@pytest.fixture(scope="session")
def seeded(tmp_path_factory, template_db):
    """The world, built once per test process into a database every test copies (see `db_template`)."""
    data_dir = tmp_path_factory.mktemp("insights-world")
    with site(data_dir, template_db) as app:
        built = build_world()
        app.extensions["usage_log"].flush()
    yield data_dir, built
    databases.drop(data_dir)


@pytest.fixture
def db_template(seeded) -> Path:
    return seeded[0]


@pytest.fixture
def world(seeded, app) -> dict:
    return seeded[1]


def is_live(asset) -> bool:
    return asset.status == "published" and (asset.expires_on is None or asset.expires_on >= utcnow().date())


def uses_in(events, start, end, team=None) -> Counter:
    return Counter(e.asset.id for e in events if e.kind in USE and start <= e.at < end
                   and (team is None or e.user.team_id == team))


# --- ignored ---------------------------------------------------------------------------------

@pytest.mark.parametrize("days", [7, 30, 90])
def test_ignored_assets_api_equals_recount(world, marketer_client, days):
    start, end = window(days)
    used = uses_in(world["events"], start, end)
    expected = {}
    for asset in world["assets"]:
        if is_live(asset) and not used[asset.id]:
            times = [e.at for e in world["events"] if e.asset is asset and e.kind in USE and e.at < end]
            expected[asset.id] = max(times).isoformat() + "Z" if times else None
    body = marketer_client.get(f"/api/v1/insights/ignored?days={days}").get_json()
    assert {a["id"]: a["last_used_at"] for a in body["assets"]} == expected
    assert all(a["owner"] and a["title"] for a in body["assets"])
    assert None in expected.values()  # never-used assets are part of the answer


def test_ignored_page_lists_never_used_apart_and_csv_matches(world, marketer_client):
    used = {e.asset.id for e in world["events"] if e.kind in USE}
    never = [a for a in world["assets"] if is_live(a) and a.id not in used]
    page = marketer_client.get("/insights/ignored?days=30").get_data(as_text=True)
    rows = csv_rows(marketer_client, "/insights/ignored?days=30&format=csv&table=never-used")
    assert rows[0] == ["Asset", "Kind", "Owner", "Age (days)", "Last used"]
    assert sorted(r[0] for r in rows[1:]) == sorted(a.title for a in never)
    assert html_table(page, "never-used") == rows


# --- coverage --------------------------------------------------------------------------------

def test_coverage_cells_equal_recount(world, marketer_client):
    start, end = window(30)
    used = uses_in(world["events"], start, end)
    body = marketer_client.get("/api/v1/insights/coverage").get_json()
    assert body["dimension"] == "Industry" and body["terms"] == INDUSTRIES and body["stages"] == STAGES
    cells = {(c["term"], c["stage"]): (c["assets"], c["uses"]) for c in body["cells"]}
    for industry in INDUSTRIES:
        for stage in STAGES:
            in_cell = [a for a in world["assets"] if is_live(a)
                       and industry in [t.name for t in a.terms] and stage in [s.name for s in a.stages]]
            assert cells[(industry, stage)] == (len(in_cell), sum(used[a.id] for a in in_cell)), (industry, stage)


# --- top and bottom, over time ---------------------------------------------------------------

def test_top_assets_and_uses_per_day_equal_recount(world, marketer_client):
    start, end = window(30)
    in_range = [e for e in world["events"] if e.kind in USE and start <= e.at < end]
    per_asset = Counter(e.asset.id for e in in_range)
    by_id = {a.id: a for a in world["assets"]}
    ranked = sorted(per_asset, key=lambda i: (-per_asset[i], by_id[i].title, i))[:10]
    rows = csv_rows(marketer_client, "/insights/usage?days=30&format=csv&table=top-assets")
    assert [r[0] for r in rows[1:]] == [by_id[i].title for i in ranked]
    first = [e for e in in_range if e.asset.id == ranked[0]]
    assert rows[1][2:5] == [str(len(first)), str(sum(e.kind == "view" for e in first)),
                            str(sum(e.kind == "download" for e in first))]
    days = Counter(e.at.date().isoformat() for e in in_range)
    per_day = csv_rows(marketer_client, "/insights/usage?days=30&format=csv&table=uses-per-day")[1:]
    assert len(per_day) == 30 and {d: int(n) for d, n in per_day} == {d: days.get(d, 0) for d, _ in per_day}


def test_term_and_kind_filters_narrow_top_assets(world, marketer_client):
    start, end = window(90)
    retail_cases = {a.id for a in world["assets"]
                    if a.kind == "case_study" and "Retail" in [t.name for t in a.terms]}
    expected = Counter(e.asset.id for e in world["events"]
                       if e.kind in USE and start <= e.at < end and e.asset.id in retail_cases)
    term_id = next(t.id for a in world["assets"] for t in a.terms if t.name == "Retail")
    rows = csv_rows(marketer_client,
                    f"/insights/usage?days=90&term={term_id}&kind=case_study&format=csv&table=top-assets")
    titles = {a.id: a.title for a in world["assets"]}
    assert {r[0]: int(r[2]) for r in rows[1:]} == {titles[i]: n for i, n in expected.items()}


# --- adoption --------------------------------------------------------------------------------

def test_adoption_equals_recount(world, marketer_client):
    start, end = window(30)
    reps = world["east"] + world["west"]
    rows = csv_rows(marketer_client, "/insights/adoption?days=30&format=csv&table=adoption-reps")[1:]
    got = {r[0]: (int(r[2]), int(r[3]), bool(r[4])) for r in rows}
    for rep in reps:
        mine = [e for e in world["events"] if e.user is rep and start <= e.at < end]
        assert got[rep.name] == (sum(e.kind in USE for e in mine), sum(e.kind == "search" for e in mine), bool(mine))
    never = csv_rows(marketer_client, "/insights/adoption?format=csv&table=never-used-portal")[1:]
    assert never == [[world["east"][3].name, "Team East"]]
    by_team = csv_rows(marketer_client, "/insights/adoption?days=30&format=csv&table=adoption-teams")[1:]
    teams = {r[0]: r[1:4] for r in by_team}
    east_active = sum(1 for rep in world["east"] if any(e.user is rep and start <= e.at < end for e in world["events"]))
    assert teams["Team East"][:2] == ["4", str(east_active)]


def test_manager_sees_only_their_team(world, app):
    client = app.test_client()
    assert login(client, world["manager"].email).status_code == 302
    west_team = world["west"][0].team_id
    rows = csv_rows(client, f"/insights/adoption?team={west_team}&format=csv&table=adoption-reps")[1:]
    assert sorted(r[0] for r in rows) == sorted(r.name for r in world["east"])
    start, end = window(30)
    east = world["manager"].team_id
    searches = Counter(" ".join(e.query.casefold().split()) for e in world["events"]
                       if e.kind == "search" and start <= e.at < end and e.user.team_id == east and e.query.strip())
    body = client.get("/api/v1/insights/content-gaps").get_json()
    got = {q["query"]: (q["searches"], q["zero_results"], q["no_click"]) for q in body["queries"]}
    assert got == expected_gaps(world["events"], start, end, team=east) and got
    assert all(searches[q] == n for q, (n, _, _) in got.items())
    assert "Team West" not in client.get("/insights/adoption").get_data(as_text=True)


# --- content gaps ----------------------------------------------------------------------------

def expected_gaps(events, start, end, team=None) -> dict[str, tuple[int, int, int]]:
    clicks = {(e.search_id, e.user.id) for e in events if e.kind == "search_click"}
    groups: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for e in events:
        if e.kind != "search" or not (start <= e.at < end) or (team and e.user.team_id != team):
            continue
        query = " ".join(e.query.casefold().split())
        if not query:
            continue
        g = groups[query]
        g[0] += 1
        g[1] += e.results == 0
        g[2] += e.results > 0 and (e.search_id, e.user.id) not in clicks
    return {q: tuple(g) for q, g in groups.items() if g[1] or g[2]}


@pytest.mark.parametrize("days", [7, 30])
def test_content_gaps_equal_recount(world, marketer_client, days):
    start, end = window(days)
    body = marketer_client.get(f"/api/v1/insights/content-gaps?days={days}").get_json()
    got = {q["query"]: (q["searches"], q["zero_results"], q["no_click"]) for q in body["queries"]}
    assert got == expected_gaps(world["events"], start, end)
    assert "roi calculator" in got  # "ROI calculator" and "roi  Calculator" are one query
    order = [(-z, -n, -s, q) for q, (s, z, n) in got.items()]
    assert [q["query"] for q in body["queries"]] == [o[3] for o in sorted(order)]


# --- ratings, flags, influence -----------------------------------------------------------------

def test_ratings_distribution_and_lowest_equal_recount(world, marketer_client):
    start, end = window(30)
    in_range = [r for r in world["ratings"] if start <= r[5] < end]
    rows = csv_rows(marketer_client, "/insights/ratings?days=30&format=csv&table=ratings-by-stars")[1:]
    assert {int(s): int(n) for s, n in rows} == {s: sum(r[2] == s for r in in_range) for s in range(1, 6)}
    per_asset = defaultdict(list)
    for r in in_range:
        per_asset[r[1].title].append(r[2])
    lowest = sorted(per_asset, key=lambda t: (round(sum(per_asset[t]) / len(per_asset[t]), 2), -len(per_asset[t]), t))
    got = csv_rows(marketer_client, "/insights/ratings?days=30&format=csv&table=lowest-rated")[1:]
    assert [r[0] for r in got] == lowest[:10]
    assert float(got[0][1]) == round(sum(per_asset[lowest[0]]) / len(per_asset[lowest[0]]), 2)


def test_influence_counts_closed_deals_not_outcomes_typed_on_ratings(world, marketer_client):
    """Influence is recounted from opportunities and the events that name them (tests/deals/test_influence.py);
    this world's won/lost typed on ratings name no deal, so no asset shows."""
    assert any(r[4] in ("won", "lost") for r in world["ratings"])
    rows = csv_rows(marketer_client, "/insights/influence?days=90&format=csv")
    assert rows == [["Asset", "Deals with", "Won with", "Win rate with", "Deals without", "Won without",
                     "Win rate without", "Difference (pts)", "95% low (pts)", "95% high (pts)",
                     "Buyer opened (deals)", "Won opened", "Lost opened", "Win rate opened"]]
    page = marketer_client.get("/insights/influence?days=90").get_data(as_text=True)
    assert "0 deals closed in this period" in page


def test_open_flags_show_on_ratings_page(world, marketer_client):
    asset = world["assets"][0]
    flags.raise_flag(world["east"][0], asset, "outdated", "Old pricing")
    flags.raise_flag(world["west"][0], asset, "wrong")
    rows = csv_rows(marketer_client, "/insights/ratings?format=csv&table=open-flags")[1:]
    assert rows == [[asset.title, asset.owner.name, "2", "outdated, wrong"]]


# --- pages, exports, report ------------------------------------------------------------------

@pytest.mark.parametrize("path,table", [
    ("/insights/usage?days=90", "top-assets"), ("/insights/adoption?days=30", "adoption-reps"),
    ("/insights/gaps?days=30", "content-gaps"), ("/insights/coverage?days=30", "coverage"),
    ("/insights/ratings?days=90", "lowest-rated"),
])
def test_csv_matches_the_page(world, marketer_client, path, table):
    page = marketer_client.get(path).get_data(as_text=True)
    assert html_table(page, table) == csv_rows(marketer_client, f"{path}&format=csv&table={table}")


def test_every_insights_page_renders_for_marketer_and_manager(world, app, marketer_client):
    manager = app.test_client()
    login(manager, world["manager"].email)
    for path in ["/insights/", "/insights/usage", "/insights/ignored", "/insights/coverage", "/insights/adoption",
                 "/insights/ratings", "/insights/gaps", "/insights/influence", "/insights/finding",
                 "/insights/finding?dimension=999999&days=99999&kind=<script>",
                 "/insights/?from=2026-13-01&to=x&days=-4&term=abc&dimension=x&kind=<script>"]:
        for client in (marketer_client, manager):
            response = client.get(path)
            assert response.status_code == 200, path
            assert "<script>" not in response.get_data(as_text=True).split("<main", 1)[1]


def last_week_events(world):
    monday = utcnow().date() - timedelta(days=utcnow().date().weekday() + 7)
    start = datetime.combine(monday, time())
    label = "{}-W{:02d}".format(*monday.isocalendar()[:2])
    return label, [e for e in world["events"] if start <= e.at < start + timedelta(days=7)]


def test_weekly_report_pdf_holds_the_weeks_figures(app, world, marketer_client, make_user):
    label, events = last_week_events(world)
    response = marketer_client.get(f"/insights/report.pdf?week={label}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(response.data)).pages)
    assert f"Weekly review {label}" in text
    uses = sum(e.kind in USE for e in events)
    searches = sum(e.kind == "search" for e in events)
    assert re.search(rf"\b{uses}\s+uses\b", text) and re.search(rf"\b{searches}\s+searches\b", text)
    top = Counter(e.asset.title for e in events if e.kind in USE).most_common()
    best = min(t for t, n in top if n == top[0][1])
    assert best in text

    # The page's button: a job makes the same report; its page offers the file, to its owner only.
    started = post_form(marketer_client, "/insights/report", {"week": label})
    assert started.status_code == 302 and "/jobs/" in started.location
    page = marketer_client.get(started.location).get_data(as_text=True)
    link = re.search(r'href="(/insights/report/\d+\.pdf)"', page).group(1)
    assert f"Weekly review {label} is ready." in page
    with marketer_client.get(link) as made:  # a file sent from disk: closed here, not by the collector
        assert made.status_code == 200 and made.mimetype == "application/pdf"
        text = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(made.data)).pages)
    assert f"Weekly review {label}" in text and best in text
    assert re.search(rf"\b{uses}\s+uses\b", text) and re.search(rf"\b{searches}\s+searches\b", text)
    other = app.test_client()
    login(other, make_user("marketer", email="other-marketer@example.com").email)
    assert other.get(link).status_code == 404
    assert post_form(marketer_client, "/insights/report", {"week": "last-tuesday"}).status_code == 302


def test_weekly_report_from_the_command_line(world, app, tmp_path):
    label, events = last_week_events(world)
    out = tmp_path / "report.pdf"
    result = app.test_cli_runner().invoke(args=["insights", "report", "--week", label, "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(out).pages)
    assert re.search(rf"\b{sum(e.kind in USE for e in events)}\s+uses\b", text)
    bad = app.test_cli_runner().invoke(args=["insights", "report", "--week", "2026-W60", "--out", str(out)])
    assert bad.exit_code != 0 and "--week" in bad.output


def test_kind_labels_are_used_on_pages(world, marketer_client):
    rows = csv_rows(marketer_client, "/insights/usage?days=90&format=csv&table=bottom-assets")[1:]
    kinds = {a.title: a.kind for a in world["assets"]}
    assert len(rows) == 10
    assert all(r[1] == AssetKind(kinds[r[0]]).label for r in rows)
