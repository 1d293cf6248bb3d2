"""Recommended for this deal, on a known world: marketing's plays first, then what won more than it
lost in the deal's cell (term × stage), then what reps used most in the cell; each with its reason;
internal-only assets marked for the rep's eyes; nothing the rep may not see."""
from __future__ import annotations

import re
from datetime import timedelta

from app import usage
from app.deals import plays
from app.library import taxonomy
from app.models import utcnow
from tests.deals.conftest import new_deal


def sent(kind, user, asset, deal, days_ago):
    return usage.event_row(kind, user=user, asset=asset, opportunity=deal.id, at=utcnow() - timedelta(days=days_ago))


def test_recommendations_reasons_and_order(team, make_asset, client_of):
    riley, jordan = team["riley"], team["jordan"]
    play = make_asset("Hospital board case study", terms=["Healthcare"], stages=["Decision"])
    winner = make_asset("ROI summary", terms=["Healthcare"])
    loser = make_asset("Generic overview")
    popular = make_asset("Pricing FAQ")
    talk = make_asset("Hospital talk track", kind="messaging", audience="internal")
    draft = make_asset("Unpublished draft", status="draft")
    elsewhere = make_asset("Retail deck")
    healthcare, _ = taxonomy.terms_by_name(["Healthcare"])
    decision, _ = taxonomy.stages_by_name(["Decision"])
    plays.pin(team["mara"], healthcare[0].id, decision[0].id, play.id, "Boards ask for proof")
    past = utcnow() - timedelta(days=3)
    won = [new_deal(jordan, f"W{n}", account=f"Won {n}", status="won", at=past) for n in range(3)]
    lost = [new_deal(jordan, f"L{n}", account=f"Lost {n}", status="lost", at=past) for n in range(2)]
    retail = new_deal(jordan, "R1", account="Shop", terms=["Retail"], status="won", at=past)
    mine = new_deal(riley, "MINE", account="Acme Health")
    rows = [sent("share", jordan, winner, won[0], 10), sent("customize", jordan, winner, won[1], 10),
            sent("share", jordan, loser, won[2], 10), sent("share", jordan, loser, lost[0], 10),
            sent("share", jordan, loser, lost[1], 10),
            sent("share", jordan, winner, won[2], 1),  # after that deal closed: not counted as won with it
            sent("share", jordan, draft, won[0], 10), sent("share", jordan, elsewhere, retail, 10)]
    rows += [sent("view", jordan, popular, lost[0], 9) for _ in range(4)]
    rows += [sent("view", jordan, talk, won[1], 9), sent("copy", jordan, talk, won[2], 9)]
    usage.record(rows)

    page = client_of(riley).get(f"/deals/{mine.id}").get_data(as_text=True)
    shown = re.findall(r'<li class="recommendation" data-source="(\w+)">.*?<strong>([^<]+)</strong>.*?'
                       r'<p class="reason muted">([^<]+)</p>', page, re.S)
    assert [(source, title) for source, title, _ in shown] == [
        ("play", "Hospital board case study"), ("won", "ROI summary"), ("used", "Pricing FAQ"),
        ("used", "Generic overview"), ("used", "Hospital talk track")]
    reasons = {title: reason.replace("&#39;", "'") for _, title, reason in shown}
    assert reasons["Hospital board case study"] == "Marketing's play for Healthcare · Decision: Boards ask for proof"
    assert reasons["ROI summary"] == "in 2 of 3 won Healthcare · Decision deals (0 of 2 lost)"
    assert reasons["Generic overview"] == "used 3 times in 3 Healthcare · Decision deals"
    assert reasons["Pricing FAQ"] == "used 4 times in 1 Healthcare · Decision deal"
    assert reasons["Hospital talk track"] == "used 2 times in 2 Healthcare · Decision deals"
    talk_item = page.split("Hospital talk track")[1].split("</li>")[0]
    assert "Internal only" in talk_item and "for your eyes" in talk_item

    answer = client_of(riley).get("/api/v1/opportunities/MINE/recommendations").get_json()
    assert [(r["source"], r["asset"]["title"], r["internal"]) for r in answer["recommendations"]] == [
        (source, title, title == "Hospital talk track") for source, title, _ in shown]
    assert client_of(riley).get("/api/v1/opportunities/W0/recommendations").status_code == 404


def test_a_deal_without_stage_or_terms_says_what_is_missing(team, client_of):
    bare = new_deal(team["riley"], "BARE", terms=())
    page = client_of(team["riley"]).get(f"/deals/{bare.id}").get_data(as_text=True)
    assert "Give the deal a stage and its account a term" in page


def test_my_deals_on_the_home_page_by_close_date_with_content_sent(team, make_asset, client_of):
    from datetime import date

    riley = team["riley"]
    later = new_deal(riley, "LATER", account="Later Co", close_date=date(2027, 3, 1))
    sooner = new_deal(riley, "SOONER", account="Sooner Co", close_date=date(2027, 1, 10))
    new_deal(riley, "DONE", account="Done Co", status="won")
    new_deal(team["jordan"], "OTHER", account="Other Co")
    brochure = make_asset("Clinic brochure")
    usage.record([sent("share", riley, brochure, sooner, 1)])
    page = client_of(riley).get("/").get_data(as_text=True)
    section = page.split('class="panel my-deals"')[1].split("</section>")[0]
    names = re.findall(r"<strong>([^<]+)</strong>", section)
    assert names == ["Sooner Co SOONER", "Later Co LATER"]
    assert "Sent: Clinic brochure" in section and "Sent: nothing yet" in section
    assert "USD 10,000" in section and "closes 2027-01-10" in section
    assert later.id != sooner.id
