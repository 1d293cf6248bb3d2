"""The same behaviour on SQLite and PostgreSQL: `make test` runs this suite on both."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from app import usage
from app.extensions import db
from app.library import assets
from app.models import UsageEvent

from . import databases


def test_the_suite_runs_on_the_database_it_was_given(app):
    assert db.engine.dialect.name == databases.KIND
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith(databases.KIND)


def listed(client, query: str) -> list[str]:
    page = client.get("/manage/", query_string={"q": query}).get_data(as_text=True)
    return sorted(re.findall(r'/manage/\d+/edit">([^<]+)</a>', page))


def test_title_filter_ignores_case_beyond_ascii_and_takes_wildcards_literally(client, login_as, make_asset):
    for title in ("Über die Plattform", "ÉTUDE DE CAS énergie", "Save 50% in year one", "Save 50 hours", "plain_name"):
        make_asset(title)
    login_as("marketer")
    assert listed(client, "über") == ["Über die Plattform"]
    assert listed(client, "étude de cas") == ["ÉTUDE DE CAS énergie"]
    assert listed(client, "SAVE 50") == ["Save 50 hours", "Save 50% in year one"]
    assert listed(client, "50%") == ["Save 50% in year one"]      # % is a character, not a wildcard
    assert listed(client, "n_m") == []                             # nor is _
    page = client.get("/manage/?q=nothing+like+it").get_data(as_text=True)
    assert "No asset title contains “nothing like it”" in page


def test_json_context_round_trips_and_is_queried_in_sql(app):
    usage.log_event("search", query="Ünïcode ‘quotes’", filters={"segment": [1, 2]}, results=0)
    usage.log_event("share_open", share_id=42, viewer="abc")
    usage.flush()
    search = db.session.scalar(select(UsageEvent).where(UsageEvent.kind == "search"))
    assert search.context == {"query": "Ünïcode ‘quotes’", "filters": {"segment": [1, 2]}, "results": 0}
    by_share = select(UsageEvent.kind).where(UsageEvent.context["share_id"].as_integer() == 42)
    assert db.session.scalars(by_share).all() == ["share_open"]
    zero = select(UsageEvent.kind).where(UsageEvent.context["results"].as_integer() == 0)
    assert db.session.scalars(zero).all() == ["search"]


def test_expiry_is_inclusive_of_its_day(client, login_as, make_asset):
    today = assets.today()
    last_day = make_asset("Ends today", expires_on=today)
    ended = make_asset("Ended yesterday", expires_on=today - timedelta(days=1))
    login_as("rep")
    assert client.get(f"/assets/{last_day.id}").status_code == 200
    assert client.get(f"/assets/{ended.id}").status_code == 404
