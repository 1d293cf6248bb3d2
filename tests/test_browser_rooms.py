"""Deal rooms in a real browser (Chromium): a rep opens a deal, makes a room with two assets and copies
its link; a buyer pages through it on a phone; the rep is alerted and sees the visit on the deal page;
the deal is won. Screenshots: test-output/."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import UsageEvent
from tests.deals.conftest import new_deal
from tests.journeys import FAST_LOG, PHONE, no_horizontal_scroll

CLIPBOARD = {"permissions": ["clipboard-read", "clipboard-write"]}


def buyer_events(app) -> list[UsageEvent]:
    app.extensions["usage_log"].flush()
    db.session.expire_all()
    return list(db.session.scalars(select(UsageEvent).where(UsageEvent.kind.like("share_%"))))


@pytest.mark.parametrize("app", [FAST_LOG], indirect=True)
def test_a_rep_sends_a_room_a_buyer_reads_it_on_a_phone_the_rep_is_alerted_and_wins(
        app, journey, make_user, make_asset, sample_files):
    rep = make_user("rep", name="Riley Park", email="riley@lumenfold.example")
    deal = new_deal(rep, "006J1", account="Mercy Regional")
    make_asset("ROI summary", terms=["Healthcare"],
               upload=(sample_files.pdf(pages=["ROI one", "ROI two", "ROI three"]), "roi.pdf"))
    make_asset("Platform brochure", terms=["Healthcare"],
               upload=(sample_files.pdf(pages=["Brochure one", "Brochure two"]), "brochure.pdf"))
    make_asset("Pricing guidance", kind="messaging", body="Floor price.", audience="internal")

    page = journey.login(rep.email, **CLIPBOARD)
    page.goto(f"/deals/{deal.id}")
    page.get_by_role("link", name="Create a deal room").click()
    expect(page.locator("main")).not_to_contain_text("Pricing guidance")  # internal: never offered
    page.get_by_label("Room title").fill("Mercy Regional: your evaluation")
    page.get_by_label("Your note to the buyer").fill("Everything from Tuesday.\nThe ROI summary has your figures.")
    page.get_by_label("Your phone").fill("+1 555 0100")
    page.get_by_label("Call to action: button label").fill("Book the technical review")
    page.get_by_label("Call to action: web address").fill("https://cal.example.com/riley")
    page.get_by_role("checkbox", name=re.compile("ROI summary")).check()
    page.get_by_role("checkbox", name=re.compile("Platform brochure")).check()
    journey.shot(page, "create-room")
    page.get_by_role("button", name="Create the room").click()
    expect(page.locator(".flash-success")).to_contain_text("Deal room ready")
    items = page.locator(".room-item")
    expect(items).to_have_count(2)
    page.get_by_role("button", name="Move “Platform brochure” up").click()  # a button, not a drag
    expect(page.locator(".room-item").first).to_contain_text("Platform brochure")
    page.get_by_role("button", name="Move “ROI summary” up").click()
    expect(page.locator(".room-item").first).to_contain_text("ROI summary")
    page.get_by_role("button", name="Copy link").click()
    expect(page.get_by_role("button", name="Copied ✓")).to_be_visible()
    room_url = page.locator("#room-url").input_value()
    assert re.search(r"/r/[\w-]{43}$", room_url)
    assert page.evaluate("navigator.clipboard.readText()") == room_url
    journey.shot(page, "room-made")

    buyer = journey.page(PHONE)  # a phone, no session
    buyer.goto(room_url)
    expect(buyer.locator("h1")).to_have_text("Mercy Regional: your evaluation")
    expect(buyer.locator(".share-message")).to_contain_text("The ROI summary has your figures.")
    expect(buyer.get_by_role("link", name="Book the technical review")).to_have_attribute(
        "href", "https://cal.example.com/riley")
    expect(buyer.locator(".room-card")).to_have_count(2)
    expect(buyer.locator(".room-card").first).to_contain_text("ROI summary")
    assert no_horizontal_scroll(buyer)
    journey.shot(buyer, "buyer-room-phone")
    buyer.get_by_role("link", name="ROI summary").click()
    expect(buyer.locator(".viewer-count")).to_have_text("Page 1 of 3")
    buyer.locator(".viewer-page img").first.wait_for()
    assert no_horizontal_scroll(buyer)
    journey.shot(buyer, "buyer-item-phone")
    buyer.wait_for_timeout(1500)  # a page counts once it was on screen for a second
    buyer.get_by_role("link", name="Next page").click()
    expect(buyer.locator(".viewer-count")).to_have_text("Page 2 of 3")
    buyer.wait_for_timeout(1500)
    buyer.get_by_role("link", name=re.compile("Platform brochure")).click()
    expect(buyer.locator(".viewer-count")).to_have_text("Page 1 of 2")

    def pages_read() -> set[tuple[int, int]]:
        return {(e.asset_id, e.context["page"]) for e in buyer_events(app) if e.kind == "share_page"}

    for _ in range(100):  # the beacon arrives a moment after the page is left: a bound, not a timing
        if len(pages_read()) >= 2:
            break
        buyer.wait_for_timeout(100)
    logged = buyer_events(app)
    assert {e.opportunity_id for e in logged} == {deal.id} and len(pages_read()) >= 2

    page.goto("/")
    expect(page.locator(".notify-count")).to_have_text("1")
    page.goto("/notifications")
    expect(page.locator("main")).to_contain_text("A buyer opened your deal room “Mercy Regional: your evaluation”")
    page.goto(f"/deals/{deal.id}")
    activity = page.locator(".room-activity")
    expect(activity.locator('[data-figure="visits"]')).to_have_text("1")
    expect(activity.locator('[data-figure="visitors"]')).to_have_text("1")
    expect(activity).to_contain_text("ROI summary")
    journey.shot(page, "deal-activity")

    new_deal(rep, "006J1", account="Mercy Regional", status="won")  # the CRM says it is won
    page.reload()
    expect(page.locator(".title-row")).to_contain_text("Won")
    expect(page.locator(".room-activity [data-figure='visits']")).to_have_text("1")
    rep_phone = journey.login(rep.email, viewport=PHONE)
    rep_phone.goto(f"/deals/{deal.id}")
    assert no_horizontal_scroll(rep_phone)
    journey.shot(rep_phone, "deal-phone")
