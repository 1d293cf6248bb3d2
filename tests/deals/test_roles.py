"""Who sees which deal: a rep their own (another's is a 404), a manager their team's, marketing all."""
from __future__ import annotations

from tests.conftest import post_form
from tests.deals.conftest import by_external_id, new_deal


def test_rep_sees_only_own_deals_and_gets_404_on_others(team, client_of):
    mine = new_deal(team["riley"], "R-1", account="Acme Health")
    theirs = new_deal(team["jordan"], "J-1", account="Harbor Credit Union")
    rep = client_of(team["riley"])
    listing = rep.get("/deals/").get_data(as_text=True)
    assert "Acme Health R-1" in listing and "Harbor Credit Union J-1" not in listing
    assert rep.get(f"/deals/{mine.id}").status_code == 200
    assert rep.get(f"/deals/{theirs.id}").status_code == 404
    assert rep.get("/deals/99999999999999").status_code == 404


def test_manager_sees_the_teams_deals_only(team, client_of):
    east = new_deal(team["jordan"], "J-1")
    west = new_deal(team["taylor"], "T-1", account="Northwind")
    manager = client_of(team["dana"])
    listing = manager.get("/deals/").get_data(as_text=True)
    assert "Acme Health J-1" in listing and "Northwind T-1" not in listing
    assert manager.get(f"/deals/{east.id}").status_code == 200
    assert manager.get(f"/deals/{west.id}").status_code == 404
    assert client_of(team["mara"]).get(f"/deals/{west.id}").status_code == 200  # marketing sees every deal


def test_rep_creates_own_opportunity(team, client_of, app):
    rep = client_of(team["riley"])
    from app.library import taxonomy

    healthcare, _ = taxonomy.terms_by_name(["Healthcare"])
    decision, _ = taxonomy.stages_by_name(["Decision"])
    response = post_form(rep, "/deals/new", {
        "name": "Clinic pilot", "account": "St. Mary's", "terms": str(healthcare[0].id), "stage": str(decision[0].id),
        "amount": "1200.50", "currency": "eur", "close_date": "2026-12-20"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Opportunity “Clinic pilot” added." in page
    assert "St. Mary&#39;s" in page and "EUR 1,200" in page
    bad = post_form(rep, "/deals/new", {"name": "", "account": "x", "stage": str(decision[0].id), "currency": "USD"})
    assert bad.status_code == 400 and "Not saved." in bad.get_data(as_text=True)
    assert by_external_id("anything") is None
