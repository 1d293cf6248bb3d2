"""Share, customize, kit and rating forms offer the rep's open deals, prefilled when the rep came from a
deal page (?opportunity=), and the event each logs carries the deal; another's deal is refused."""
from __future__ import annotations

import re

from sqlalchemy import select

from app.documents import authoring
from app.extensions import db
from app.models import UsageEvent
from tests.conftest import post_form
from tests.deals.conftest import new_deal


def events(kind: str) -> list[UsageEvent]:
    return list(db.session.scalars(select(UsageEvent).where(UsageEvent.kind == kind).order_by(UsageEvent.id)))


def selected_deal(page: str) -> str:
    select_html = re.search(r'<select id="opportunity" name="opportunity">(.*?)</select>', page, re.S)
    assert select_html, "no deal select on the page"
    chosen = re.search(r'<option value="(\d*)"[^>]* selected>', select_html[1])
    return chosen[1] if chosen else ""


def test_from_a_deal_page_the_share_form_is_prefilled_and_the_share_carries_the_deal(team, make_asset, client_of):
    riley = team["riley"]
    deal = new_deal(riley, "D1", account="Acme Health")
    new_deal(riley, "D2", account="Other Co")
    brochure = make_asset("Clinic brochure", terms=["Healthcare"], stages=["Decision"])
    rep = client_of(riley)
    assert rep.get(f"/deals/{deal.id}").status_code == 200
    asset_page = rep.get(f"/assets/{brochure.id}?opportunity={deal.id}").get_data(as_text=True)
    assert f"/share/new?asset={brochure.id}&amp;opportunity={deal.id}" in asset_page
    assert selected_deal(asset_page) == str(deal.id)  # the rating form too
    form = rep.get(f"/share/new?asset={brochure.id}&opportunity={deal.id}").get_data(as_text=True)
    assert selected_deal(form) == str(deal.id) and 'value="Acme Health"' in form
    response = post_form(rep, f"/share/new?asset={brochure.id}",
                         {"opportunity": str(deal.id), "account": "", "expires": "30", "cta": "reply"})
    assert response.status_code == 302, response.get_data(as_text=True)
    (share,) = events("share")
    assert share.opportunity_id == deal.id and share.context["account"] == "Acme Health"
    shown = rep.get(f"/deals/{deal.id}").get_data(as_text=True).split("Content sent in this deal")[1]
    assert "Clinic brochure" in shown.split("</section>")[0]


def test_rating_and_kit_carry_the_deal(team, make_asset, client_of):
    riley = team["riley"]
    deal = new_deal(riley, "D1", account="Acme Health")
    brochure = make_asset("Clinic brochure")
    rep = client_of(riley)
    rated = post_form(rep, f"/assets/{brochure.id}/rate", {"stars": "5", "opportunity": str(deal.id)})
    assert rated.status_code == 302
    (rate,) = events("rate")
    assert rate.opportunity_id == deal.id and rate.context["account"] == "Acme Health"
    # The asset page shows the rating's deal chosen again: updating the rating keeps it on the deal.
    page = rep.get(f"/assets/{brochure.id}").get_data(as_text=True)
    rating_form = page[page.index(f'action="/assets/{brochure.id}/rate"'):]
    assert selected_deal(rating_form.split("</form>")[0]) == str(deal.id)
    post_form(rep, f"/assets/{brochure.id}/rate", {"stars": "4", "opportunity": selected_deal(rating_form)})
    assert [e.opportunity_id for e in events("rate")] == [deal.id, deal.id]
    added = post_form(rep, f"/kits/items?asset={brochure.id}&opportunity={deal.id}")
    assert added.status_code == 302
    kit = rep.get("/kits/new").get_data(as_text=True)
    assert selected_deal(kit) == str(deal.id)
    built = post_form(rep, "/kits/new", {"account": "", "title": "", "intro": "", "opportunity": str(deal.id),
                                         "build": "1"})
    assert built.status_code == 302, built.get_data(as_text=True)
    (kit_event,) = events("customize")
    assert kit_event.opportunity_id == deal.id and kit_event.context["kit"] is True
    assert kit_event.context["account"] == "Acme Health"


def test_customize_carries_the_deal(team, make_asset, make_user, client_of):
    riley = team["riley"]
    deal = new_deal(riley, "D1", account="Acme Health")
    one_pager = make_asset("ROI one-pager")
    authoring.save_template(one_pager, "<h1>ROI for {{ customer }}</h1>", "",
                            authoring.parse_fields([{"name": "customer", "default": "Acme"}]), team["mara"])
    rep = client_of(riley)
    form = rep.get(f"/assets/{one_pager.id}/customize?opportunity={deal.id}").get_data(as_text=True)
    assert selected_deal(form) == str(deal.id)
    made = post_form(rep, f"/assets/{one_pager.id}/customize", {"customer": "Acme Health", "opportunity": str(deal.id),
                                                                 "action": "create"})
    assert made.status_code == 302, made.get_data(as_text=True)
    (customize,) = events("customize")
    assert customize.opportunity_id == deal.id


def test_another_reps_deal_or_a_closed_one_is_refused(team, make_asset, client_of):
    theirs = new_deal(team["jordan"], "J1")
    closed = new_deal(team["riley"], "R-won", status="won")
    brochure = make_asset("Clinic brochure")
    rep = client_of(team["riley"])
    for deal in (theirs, closed):
        page = rep.get(f"/share/new?asset={brochure.id}&opportunity={deal.id}").get_data(as_text=True)
        assert 'id="opportunity"' not in page or selected_deal(page) == ""
        refused = post_form(rep, f"/share/new?asset={brochure.id}", {"opportunity": str(deal.id), "expires": "30",
                                                                     "cta": "reply"})
        assert refused.status_code == 422 and "Choose one of your open deals" in refused.get_data(as_text=True)
        rated = post_form(rep, f"/assets/{brochure.id}/rate", {"stars": "4", "opportunity": str(deal.id)})
        assert rated.status_code == 422
    assert events("share") == [] and events("rate") == []
