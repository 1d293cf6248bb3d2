"""Deal rooms at a phone's width, in Chromium: the buyer's room and item pages and the rep's room and
deal pages pass axe-core (no serious or critical violation), have one h1 and never scroll sideways."""
from __future__ import annotations

import pytest

from app.rooms import service as rooms
from tests.a11y.test_phone import check
from tests.deals.conftest import new_deal
from tests.journeys import FAST_LOG, LAPTOP, PHONE

pytestmark = pytest.mark.parametrize("app", [FAST_LOG], indirect=True)


def test_deal_room_pages_pass_axe_at_phone_and_laptop_width(journey, make_user, make_asset, sample_files):
    rep = make_user("rep", name="Riley Park")
    deal = new_deal(rep, "006P1", account="Mercy Regional")
    roi = make_asset("ROI summary", terms=["Healthcare"], upload=(sample_files.pdf(pages=["One", "Two"]), "roi.pdf"))
    talk = make_asset("Why Lumenfold", kind="messaging", body="Three **reasons**.", audience="customer")
    room = rooms.create_room(rep, deal, rooms.RoomData(
        "Mercy Regional: your evaluation", "Everything from Tuesday.", "+1 555 0100", "Book the review",
        "https://cal.example.com/riley"), [f"asset:{roi.id}", f"asset:{talk.id}"])
    item = room.items[0].id
    problems = []
    for viewport in (PHONE, LAPTOP):
        buyer = journey.page(viewport)
        for url in (f"/r/{room.token}", f"/r/{room.token}/{item}", f"/r/{room.token}/{room.items[1].id}"):
            problems += check(buyer, url)
        journey.shot(buyer, "buyer-item")
        seller = journey.login(rep.email, viewport=viewport)
        fresh = new_deal(rep, f"006Q{viewport['width']}", account="Harbor General")  # no room yet: the form
        for url in (f"/deals/{deal.id}", f"/rooms/{room.id}", f"/deals/{fresh.id}/room/new"):
            problems += [p for p in check(seller, url)  # a laptop shows its navigation: no Menu to press
                         if viewport is PHONE or not p.endswith("open before Menu is pressed")]
        journey.shot(seller, "new-room")
    assert problems == [], "\n".join(problems)
