"""The summaries insights read (app/rollups.py) are the log's: kept by the writer while events arrive out
of order, in batches, from several writers at once (a click before its search, an event backdated
between two sessions, a rep whose team changes mid-session), they hold exactly what
`flask insights rebuild-summaries` recounts from the log afterwards; and time to find still equals a
recount for a team whose rep changed team mid-session (the page reads the log then)."""
from __future__ import annotations

import random
import re
from datetime import datetime, time, timedelta

from sqlalchemy import select

from app import usage
from app.extensions import db
from app.library import assets
from app.models import Asset, EventDay, SearchDay, WorkSession, utcnow
from tests.conftest import login
from tests.insights.writing import record_out_of_order

QUERIES = ["ROI calculator", "roi  Calculator", "HIPAA", "fedramp", ""]


def random_log(reps, assets, rng: random.Random) -> list[dict]:
    """A month of events: sessions with searches (clicked by the searcher, by someone else, never;
    results none, some, not recorded; with filters or not), uses, gaps either side of 30 minutes."""
    rows, now = [], utcnow()
    for rep in reps:
        at = now - timedelta(days=30, minutes=rng.uniform(0, 300))
        while at < now - timedelta(minutes=5):
            kind = rng.choice(["search", "view", "download", "copy", "share", "rate", "search_click"])
            if kind == "search":
                sid = f"{rng.getrandbits(64):016x}"
                results = rng.choice([0, 2, 5, None])
                rows.append(usage.event_row("search", user=rep, at=at, search_id=sid, query=rng.choice(QUERIES),
                                            results=results, filters=rng.choice([None, {"Industry": ["Retail"]}])))
                if results and rng.random() < 0.6:
                    clicker = rep if rng.random() < 0.8 else rng.choice(reps)
                    rows.append(usage.event_row("search_click", user=clicker, asset=rng.choice(assets),
                                                at=at + timedelta(seconds=30), search_id=sid))
            else:
                rows.append(usage.event_row(kind, user=rep, asset=rng.choice(assets), at=at))
            at += timedelta(minutes=rng.choice([1, 5, 20, 29, 31, 45, 240]))
    # From the middle of the log on, a rep works for Team West: the move falls within one of their sessions.
    middle = next(n for n in range(len(rows) // 2, len(rows)) if rows[n]["user_id"] == rows[n - 1]["user_id"]
                  and rows[n]["created_at"] - rows[n - 1]["created_at"] <= usage.SESSION_GAP)
    west = next(r.team_id for r in reps if r.team_id not in (None, reps[0].team_id))
    for row in rows[middle:]:
        if row["user_id"] == rows[middle]["user_id"]:
            row["team_id"] = west
    return rows


def summaries() -> dict:
    """Every summary row, as comparable values."""
    return {
        "event_day": sorted(db.session.execute(select(
            EventDay.day, EventDay.kind, EventDay.user_id, EventDay.team_id, EventDay.events, EventDay.last_at)).all()),
        "search_day": sorted(db.session.execute(select(
            SearchDay.day, SearchDay.team_id, SearchDay.query, SearchDay.filters, SearchDay.searches,
            SearchDay.zero_results, SearchDay.unknown_results, SearchDay.no_click)).all()),
        "work_session": sorted(db.session.execute(select(
            WorkSession.user_id, WorkSession.started_at, WorkSession.ended_at, WorkSession.searched_at,
            WorkSession.team_id, WorkSession.found_at, WorkSession.asset_id, WorkSession.searched_week,
            WorkSession.minutes, WorkSession.mixed_teams)).all()),
    }


def test_summaries_kept_while_events_arrive_out_of_order_equal_a_recount_from_the_log(app, make_user, make_asset):
    reps = [make_user("rep"), make_user("rep"), make_user("rep", team="Team West"), make_user("rep", team=None)]
    assets = [make_asset(f"Asset {n}", terms=["Retail"]) for n in range(4)]
    rows = random_log(reps, assets, random.Random(5))
    record_out_of_order(rows, random.Random(6))
    usage.flush()  # what the app logged itself (the assets' creation) is in the log and its summaries too
    kept = summaries()
    assert sum(r[4] for r in kept["search_day"]) == sum(r["kind"] == "search" for r in rows)
    assert any(r[-1] for r in kept["work_session"]), "a session should hold two teams' events"

    result = app.test_cli_runner().invoke(args=["insights", "rebuild-summaries"])
    assert result.exit_code == 0 and "Recounted from the log" in result.output, result.output
    db.session.expire_all()
    assert summaries() == kept


def test_time_to_find_of_a_team_whose_rep_moved_mid_session(app, make_user, make_asset):
    east, moving = make_user("rep", name="Avery East"), make_user("rep", name="Blake Mover")
    manager = make_user("manager")
    west = make_user("rep", team="Team West")
    brochure = make_asset("Brochure")
    day = datetime.combine(utcnow().date() - timedelta(days=2), time(9))
    rows = [usage.event_row("search", user=east, at=day, query="roi", results=1),
            usage.event_row("view", user=east, asset=brochure, at=day + timedelta(minutes=4)),
            # Blake searches for Team East, then (moved to Team West) opens the brochure 3 minutes later:
            # for Team East the session found nothing; a search for Team West 10 minutes on finds it.
            usage.event_row("search", user=moving, at=day, query="roi", results=1),
            {**usage.event_row("view", user=moving, asset=brochure, at=day + timedelta(minutes=3)),
             "team_id": west.team_id},
            {**usage.event_row("search", user=moving, at=day + timedelta(minutes=13), query="roi", results=1),
             "team_id": west.team_id},
            {**usage.event_row("download", user=moving, asset=brochure, at=day + timedelta(minutes=15)),
             "team_id": west.team_id}]
    record_out_of_order(rows, random.Random(1), batches=3, writers=2)
    browser = app.test_client()
    login(browser, manager.email)
    page = browser.get("/insights/finding?days=7").get_data(as_text=True)
    # Team East's sessions: Avery's (found in 4 minutes) and Blake's first search (nothing of the team's after it).
    said = re.search(r"\d+ working sessions? with a search in this period:[^<]*", page)[0]
    assert said == "2 working sessions with a search in this period: 1 found something, in a median of 4.0 minutes; " \
                   "1 not found."


def test_time_to_find_after_the_asset_found_is_deleted(app, make_user, make_asset):
    rep, marketer = make_user("rep", name="Avery East"), make_user("marketer", team="Marketing")
    gone, kept = make_asset("Old brochure"), make_asset("New brochure")
    day = datetime.combine(utcnow().date() - timedelta(days=1), time(9))
    usage.record([usage.event_row("search", user=rep, at=day, query="brochure", results=2),
                  usage.event_row("view", user=rep, asset=gone, at=day + timedelta(minutes=2)),
                  usage.event_row("view", user=rep, asset=kept, at=day + timedelta(minutes=7))])
    browser = app.test_client()
    login(browser, marketer.email)
    assert "in a median of 2.0 minutes" in browser.get("/insights/finding?days=7").get_data(as_text=True)
    assets.delete_asset(db.session.get(Asset, gone.id))  # as Manage → Delete does
    # The log no longer names the first asset viewed: the session found the second one, 7 minutes in.
    assert "in a median of 7.0 minutes" in browser.get("/insights/finding?days=7").get_data(as_text=True)
