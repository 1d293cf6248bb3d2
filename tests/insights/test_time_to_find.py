"""Time to find equals a recount: a seeded random log of reps' working sessions (gaps on both sides of
30 minutes, searches that find something, searches that find nothing, uses before any search, a
manager's searches, events outside the range) is written through the usage API; the expected figures
are recounted here from the Python list by the definitions in app/insights/finding.py's docstring,
never by calling it."""
from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime, time, timedelta

from app import usage
from app.models import utcnow
from tests.conftest import login
from tests.insights.reading import csv_rows, html_table
from tests.insights.writing import record_out_of_order

INDUSTRIES = ["Healthcare", "Retail", "Manufacturing"]
KINDS = ["search", "view", "download", "copy", "share", "customize", "search_click", "rate", "flag"]
GAPS_MINUTES = [0.5, 2, 7, 18, 29.9, 30, 30.1, 31, 45, 90, 600]


def build_log(make_user, make_asset, rng: random.Random):
    """People, assets (one or two industries, or none) and a random walk of events per person."""
    people = [make_user("rep", name="Avery Stone"), make_user("rep", name="Blake Moss"),
              make_user("rep", name="Casey Ward", team="Team West"), make_user("rep", name="Drew Hale", team=None),
              make_user("manager", name="Morgan Fox")]
    assets = [make_asset(f"Asset {n}", terms=rng.sample(INDUSTRIES, rng.randint(0, 2)),
                         kind=rng.choice(["one_pager", "case_study"])) for n in range(6)]
    now = utcnow()
    events, rows = [], []
    for person in people:
        at = now - timedelta(days=40, minutes=rng.uniform(0, 600))
        while at < now - timedelta(minutes=1):
            kind = rng.choice(KINDS)
            asset = None if kind == "search" else rng.choice(assets)
            events.append({"user": person.id, "role": person.role, "team": person.team_id, "at": at, "kind": kind,
                           "asset": asset.id if asset else None})
            rows.append(usage.event_row(kind, user=person, asset=asset, at=at))
            at += timedelta(minutes=rng.choice(GAPS_MINUTES)) * (rng.uniform(0.98, 1.0) if rng.random() < 0.1 else 1)
            if rng.random() < 0.02:
                at += timedelta(days=1)
    record_out_of_order(rows, rng)  # as a busy server writes them: counted all the same
    return people, assets, events


def median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def measured_sessions(events, start, end, team=None, finds=None):
    """(user, team of the first search, first search at, found at or None, asset found or None)."""
    sessions = []
    by_user = defaultdict(list)
    for e in events:
        if e["role"] == "rep" and start <= e["at"] < end and (team is None or e["team"] == team):
            by_user[e["user"]].append(e)
    for user, mine in by_user.items():
        mine.sort(key=lambda e: e["at"])
        split = [[mine[0]]]
        for before, e in zip(mine, mine[1:], strict=False):
            if e["at"] - before["at"] > timedelta(minutes=30):
                split.append([])
            split[-1].append(e)
        for session in split:
            searches = [e for e in session if e["kind"] == "search"]
            if not searches:
                continue
            first = searches[0]
            uses = [e for e in session if e["at"] >= first["at"] and e is not first
                    and e["kind"] in ("view", "download", "copy", "customize", "share")
                    and (finds is None or e["asset"] in finds)]
            used = uses[0] if uses else None
            sessions.append((user, first["team"], first["at"], used and used["at"], used and used["asset"]))
    return sessions


def figures(group):
    """[measured, found, not found, median minutes] as the CSV writes them."""
    minutes = [(found - searched).total_seconds() / 60 for _, _, searched, found, _ in group if found]
    median_text = f"{round(median(minutes), 1):g}" if minutes else ""
    return [str(len(group)), str(len(minutes)), str(len(group) - len(minutes)), median_text]


def ranked(rows):
    return sorted(rows, key=lambda r: (r[4] == "", -float(r[4] or 0), r[0]))


def expected_tables(sessions, names, teams, term_names_of_asset, first_day, last_day):
    by_rep, by_team, by_term, by_week = defaultdict(list), defaultdict(list), defaultdict(list), defaultdict(list)
    for s in sessions:
        by_rep[names[s[0]]].append(s)
        by_team[teams.get(s[1], "No team")].append(s)
        by_week["{}-W{:02d}".format(*s[2].date().isocalendar()[:2])].append(s)
        if s[3]:
            for term in term_names_of_asset.get(s[4], ()):
                by_term[term].append(s)
    monday = first_day - timedelta(days=first_day.weekday())
    weeks = []
    while monday <= last_day:
        weeks.append("{}-W{:02d}".format(*monday.isocalendar()[:2]))
        monday += timedelta(weeks=1)
    return {
        "reps": ranked([[name, *figures(group)] for name, group in by_rep.items()]),
        "teams": ranked([[name, *figures(group)] for name, group in by_team.items()]),
        "segments": [[term, *figures(by_term[term])[1::2]] for term in INDUSTRIES if by_term[term]],
        "weeks": [[week, *figures(by_week[week])] for week in weeks],
        "overall": figures(sessions),
    }


def check(browser, query, expected):
    for table in ("reps", "teams", "segments", "weeks"):
        rows = csv_rows(browser, f"/insights/finding?{query}&format=csv&table=time-to-find-{table}")
        assert rows[1:] == expected[table], table
    page = browser.get(f"/insights/finding?{query}").get_data(as_text=True)
    assert html_table(page, "time-to-find-reps")[1:] == expected["reps"]
    measured, found, not_found, minutes = expected["overall"]
    assert f"{measured} working sessions with a search in this period: {found} found something" in page
    assert f"in a median of {minutes} minutes; {not_found} not found." in page


def test_time_to_find_equals_a_recount_of_the_sessions(app, make_user, make_asset, marketer_client):
    people, assets, events = build_log(make_user, make_asset, random.Random(11))
    today = utcnow().date()
    start = datetime.combine(today - timedelta(days=29), time())
    end = datetime.combine(today + timedelta(days=1), time())
    sessions = measured_sessions(events, start, end)
    names = {p.id: p.name for p in people}
    teams = {p.team_id: p.team.name for p in people if p.team}
    terms = {a.id: [t.name for t in a.terms if t.name in INDUSTRIES] for a in assets}
    expected = expected_tables(sessions, names, teams, terms, start.date(), today)
    assert int(expected["overall"][1]) >= 20 and int(expected["overall"][2]) >= 5, "the world should find and miss"
    assert "Morgan Fox" not in {r[0] for r in expected["reps"]}
    check(marketer_client, "days=30", expected)

    first, last = today - timedelta(days=20), today - timedelta(days=6)
    window = measured_sessions(events, datetime.combine(first, time()),
                               datetime.combine(last + timedelta(days=1), time()),
                               finds={a.id for a in assets if a.kind == "case_study"})
    check(marketer_client, f"from={first}&to={last}&kind=case_study",
          expected_tables(window, names, teams, terms, first, last))


def test_a_manager_sees_time_to_find_of_the_team(app, make_user, make_asset):
    people, assets, events = build_log(make_user, make_asset, random.Random(3))
    manager = people[4]
    today = utcnow().date()
    sessions = measured_sessions(events, datetime.combine(today - timedelta(days=89), time()),
                                 datetime.combine(today + timedelta(days=1), time()), team=manager.team_id)
    names = {p.id: p.name for p in people}
    terms = {a.id: [t.name for t in a.terms if t.name in INDUSTRIES] for a in assets}
    expected = expected_tables(sessions, names, {manager.team_id: manager.team.name}, terms,
                               today - timedelta(days=89), today)
    browser = app.test_client()
    login(browser, manager.email)
    check(browser, "days=90", expected)
    assert {r[0] for r in expected["reps"]} <= {"Avery Stone", "Blake Moss"}


def test_time_to_find_with_no_search_says_so(marketer_client):
    page = marketer_client.get("/insights/finding").get_data(as_text=True)
    assert "0 working sessions with a search in this period: 0 found something; 0 not found." in page
    assert "No rep searched in this range." in page
