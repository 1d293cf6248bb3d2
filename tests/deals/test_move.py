"""A deal moves on in Bridge itself (no CRM sync): its owner sets its stage or closes it won or lost,
and the outcome is what Influence reads (recounted here from the deal's own row and history)."""
from __future__ import annotations

from sqlalchemy import select

from app import usage
from app.extensions import db
from app.library import taxonomy
from app.models import OpportunityStageChange
from tests.conftest import post_form
from tests.deals.conftest import new_deal
from tests.insights.reading import csv_rows


def stage_id(name: str) -> int:
    found, _ = taxonomy.stages_by_name([name])
    return found[0].id


def history(deal) -> list[tuple]:
    return [(c.to_stage.name if c.to_stage else None, c.status, c.source) for c in db.session.scalars(
        select(OpportunityStageChange).where(OpportunityStageChange.opportunity_id == deal.id)
        .order_by(OpportunityStageChange.id))]


def test_the_owner_moves_the_deal_closes_it_won_and_influence_counts_it(team, client_of, make_asset):
    rep = team["riley"]
    deal = new_deal(rep, "R-1", stage="Consideration")
    asset = make_asset("Hospital ROI calculator")
    usage.record([usage.event_row("share", user=rep, asset=asset, opportunity=deal.id)])
    browser = client_of(rep)
    page = browser.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert 'aria-label="Move this deal"' in page

    moved = post_form(browser, f"/deals/{deal.id}/move", {"stage": stage_id("Decision"), "status": "open"},
                      follow_redirects=True).get_data(as_text=True)
    assert "is now at Decision" in moved
    won = post_form(browser, f"/deals/{deal.id}/move", {"stage": stage_id("Decision"), "status": "won"},
                    follow_redirects=True).get_data(as_text=True)
    assert "closed won" in won and "closed won <span class=\"muted\">(app)</span>" in won
    db.session.refresh(deal)
    assert (deal.status, deal.stage.name, deal.closed_at is not None) == ("won", "Decision", True)
    assert history(deal) == [("Consideration", "open", "app"), ("Decision", "open", "app"), ("Decision", "won", "app")]

    rows = csv_rows(client_of(team["mara"]), "/insights/influence?days=90&format=csv")
    row = next(r for r in rows[1:] if r[0] == "Hospital ROI calculator")
    assert (row[1], row[2]) == ("1", "1")  # in one closed deal, and that deal was won

    again = post_form(browser, f"/deals/{deal.id}/move", {"stage": stage_id("Decision"), "status": "won"},
                      follow_redirects=True).get_data(as_text=True)
    assert "Nothing changed." in again and len(history(deal)) == 3
    reopened = post_form(browser, f"/deals/{deal.id}/move", {"stage": stage_id("Decision"), "status": "open"},
                         follow_redirects=True)
    db.session.refresh(deal)
    assert reopened.status_code == 200 and (deal.status, deal.closed_at) == ("open", None)


def test_only_the_owner_their_manager_or_an_admin_may_move_a_deal(team, client_of):
    deal = new_deal(team["riley"], "R-2", stage="Consideration")
    decision = {"stage": stage_id("Decision"), "status": "lost"}
    assert post_form(client_of(team["jordan"]), f"/deals/{deal.id}/move", decision).status_code == 404  # not theirs
    assert post_form(client_of(team["taylor"]), f"/deals/{deal.id}/move", decision).status_code == 404  # other team
    marketer = client_of(team["mara"])
    assert 'aria-label="Move this deal"' not in marketer.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert post_form(marketer, f"/deals/{deal.id}/move", decision).status_code == 403
    db.session.refresh(deal)
    assert deal.status == "open" and len(history(deal)) == 1
    assert post_form(client_of(team["dana"]), f"/deals/{deal.id}/move", decision).status_code == 302  # the manager
    db.session.refresh(deal)
    assert (deal.status, deal.stage.name) == ("lost", "Decision")


def test_a_bad_stage_or_status_changes_nothing(team, client_of):
    deal = new_deal(team["riley"], "R-3", stage="Consideration")
    browser = client_of(team["riley"])
    for data in ({"stage": 999999, "status": "won"}, {"stage": stage_id("Decision"), "status": "maybe"},
                 {"stage": "abc", "status": "won"}):
        page = post_form(browser, f"/deals/{deal.id}/move", data, follow_redirects=True)
        assert page.status_code == 200 and "Not saved." in page.get_data(as_text=True)
    no_token = browser.post(f"/deals/{deal.id}/move", data={"stage": stage_id("Decision"), "status": "won"})
    assert no_token.status_code == 400
    db.session.refresh(deal)
    assert (deal.status, deal.stage.name, len(history(deal))) == ("open", "Consideration", 1)
