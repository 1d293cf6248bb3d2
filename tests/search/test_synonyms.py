"""Synonym groups: kept by marketers and admins on /manage/synonyms, applied to reps' searches at once."""
from app.extensions import db
from app.models import Synonym
from app.search import synonyms
from tests.conftest import login, post_form


def titles(client, query: str) -> list[str]:
    return [r["title"] for r in client.get("/api/v1/search", query_string={"q": query}).get_json()["results"]]


def test_marketer_adds_edits_and_deletes_synonyms_and_reps_find_through_them(client, login_as, make_asset,
                                                                            make_user):
    mid_market = make_asset("Mid-Market healthcare one-pager", terms=["Healthcare"],
                                body="For hospitals of 200 to 800 beds at mid-market prices.")
    make_asset("Total cost of ownership calculator", body="Five-year total cost of ownership, line by line.")
    make_asset("Two-minute overview", body="Lumenfold in two minutes.")
    rep = make_user("rep")
    login_as("marketer")
    page = post_form(client, "/manage/synonyms/", {"terms": "mid-size, mid-market, midsize"}, follow_redirects=True)
    assert "a search for any of mid-size, mid-market, midsize now finds the others" in page.get_data(as_text=True)
    post_form(client, "/manage/synonyms/", {"terms": "tco, total cost of ownership"})
    clash = post_form(client, "/manage/synonyms/", {"terms": "Midsize, medium"}, follow_redirects=True)
    assert "already in the group" in clash.get_data(as_text=True)
    alone = post_form(client, "/manage/synonyms/", {"terms": "lonely"}, follow_redirects=True)
    assert "at least two" in alone.get_data(as_text=True)
    forged = client.post("/manage/synonyms/", data={"terms": "a, b"})  # no CSRF token
    assert forged.status_code == 400 and len(synonyms.groups()) == 2
    listing = client.get("/manage/synonyms/").get_data(as_text=True)
    assert 'value="mid-size, mid-market, midsize"' in listing
    post_form(client, "/logout")
    login(client, rep.email)
    assert titles(client, "mid-size hospital") == [mid_market.title]  # mid-market, and hospital as hospitals
    assert titles(client, "tco") == ["Total cost of ownership calculator"]  # a phrase, not "two"
    assert client.get("/manage/synonyms/").status_code == 403
    post_form(client, "/logout")
    login_as("admin")
    tco = next(g for g in synonyms.groups() if "tco" in g.terms)
    post_form(client, f"/manage/synonyms/{tco.id}", {"terms": "tco, total cost of ownership, five-year cost"})
    db.session.expire_all()
    assert db.session.get(Synonym, tco.id).terms == ["tco", "total cost of ownership", "five-year cost"]
    deleted = post_form(client, f"/manage/synonyms/{tco.id}/delete", follow_redirects=True)
    assert "Deleted the group" in deleted.get_data(as_text=True)
    assert titles(client, "tco") == []


def test_the_demo_ships_synonyms(app):
    from app.ops import demo
    assert synonyms.ensure(demo.SYNONYMS) == len(demo.SYNONYMS)
    assert synonyms.ensure(demo.SYNONYMS) == 0  # seeding again adds nothing
    table = synonyms.table()
    assert "mid-market" in table[("mid", "size")] and "total cost of ownership" in table[("tco",)]
