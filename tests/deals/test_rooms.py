"""Deal rooms: a buyer page per deal with the rep's content in the rep's order, never internal content,
ending with a friendly 410, every buyer step logged with the deal, managed only by the deal's people."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pypdf
import pytest
from sqlalchemy import select, update

from app.database import transaction
from app.extensions import db
from app.models import Asset, DealRoom, DealRoomItem, Notification, utcnow
from app.rooms import service
from tests.conftest import post_form
from tests.deals.conftest import new_deal
from tests.deals.rooms import BUYER, buyer_events, make_room


@pytest.fixture
def world(app, team, make_asset, sample_files):
    riley = team["riley"]
    deal = new_deal(riley, "006A1")
    brochure = make_asset("Platform brochure", terms=["Healthcare"],
                          upload=(sample_files.pdf(pages=["Brochure one", "Brochure two"]), "brochure.pdf"))
    roi = make_asset("ROI summary", terms=["Healthcare"],
                     upload=(sample_files.pdf(pages=["ROI page one", "ROI page two", "ROI three"]), "roi.pdf"))
    pricing = make_asset("Pricing guidance", kind="messaging", body="Floor price 40% off.", audience="internal")
    return {"deal": deal, "brochure": brochure, "roi": roi, "pricing": pricing, **team}


def item_ids(room) -> list[int]:
    db.session.expire_all()
    return [i.id for i in db.session.get(DealRoom, room.id).items]


def test_buyer_sees_note_contact_call_to_action_and_items_in_the_reps_order(app, world, client_of):
    rep = client_of(world["riley"])
    room = make_room(rep, world["deal"], [world["roi"], world["brochure"]])
    assert len(room.token) >= 43
    html = app.test_client().get(f"/r/{room.token}", environ_base=BUYER).get_data(as_text=True)
    assert "Acme Health: your evaluation" in html and "Page 2 has the figures." in html
    assert "Riley Park" in html and "riley@example.com" in html and "+1 555 0100" in html
    assert re.search(r'href="https://cal.example.com/riley"[^>]*>Book the technical review<', html)
    assert html.index("ROI summary") < html.index("Platform brochure")
    first, second = item_ids(room)
    assert post_form(rep, f"/rooms/{room.id}/items/{second}/up").status_code == 302
    html = app.test_client().get(f"/r/{room.token}", environ_base=BUYER).get_data(as_text=True)
    assert html.index("Platform brochure") < html.index("ROI summary")
    assert item_ids(room) == [second, first]
    assert post_form(rep, f"/rooms/{room.id}/items/{first}/remove").status_code == 302
    html = app.test_client().get(f"/r/{room.token}").get_data(as_text=True)
    assert "ROI summary" not in html and "Platform brochure" in html
    assert app.test_client().get(f"/r/{room.token}/{first}").status_code == 404


def test_each_item_opens_in_the_paged_viewer_and_downloads(app, world, client_of):
    room = make_room(client_of(world["riley"]), world["deal"], [world["roi"]])
    [item_id] = item_ids(room)
    buyer = app.test_client()
    html = buyer.get(f"/r/{room.token}/{item_id}", environ_base=BUYER).get_data(as_text=True)
    assert "data-viewer" in html and 'alt="Page 3 of 3 of ROI summary"' in html
    image = buyer.get(f"/r/{room.token}/{item_id}/pages/3.png")
    assert image.status_code == 200 and image.data[:4] == b"\x89PNG"
    image.close()
    assert buyer.get(f"/r/{room.token}/{item_id}/pages/4.png").status_code == 404
    with buyer.get(f"/r/{room.token}/{item_id}/download") as download:
        assert pypdf.PdfReader(io.BytesIO(download.data)).pages[2].extract_text() == "ROI three"


def test_internal_assets_can_never_go_in_a_room(app, world, client_of):
    rep = client_of(world["riley"])
    response = post_form(rep, f"/deals/{world['deal'].id}/room/new",
                         {"title": "Room", "item": [f"asset:{world['brochure'].id}", f"asset:{world['pricing'].id}"]})
    assert response.status_code == 422 and "internal only" in response.get_data(as_text=True)
    assert db.session.scalar(select(DealRoom)) is None
    form = rep.get(f"/deals/{world['deal'].id}/room/new").get_data(as_text=True)
    assert "Pricing guidance" not in form
    room = make_room(rep, world["deal"], [world["brochure"]])
    response = post_form(rep, f"/rooms/{room.id}/items", {"item": f"asset:{world['pricing'].id}"})
    assert response.status_code == 422 and "internal only" in response.get_data(as_text=True)
    assert len(item_ids(room)) == 1


def test_an_asset_made_internal_after_it_was_added_is_no_longer_served(app, world, client_of):
    rep = client_of(world["riley"])
    room = make_room(rep, world["deal"], [world["roi"], world["brochure"]])
    roi_item, _ = item_ids(room)
    buyer = app.test_client()
    with buyer.get(f"/r/{room.token}/{roi_item}/pages/1.png") as image:
        assert image.status_code == 200
    with transaction():  # marketing decides it is for our eyes only
        db.session.execute(update(Asset).where(Asset.id == world["roi"].id).values(audience="internal"))
    assert db.session.get(Asset, world["roi"].id).is_internal
    html = buyer.get(f"/r/{room.token}").get_data(as_text=True)
    assert "ROI summary" not in html and "Platform brochure" in html
    for path in ("", "/pages/1.png", "/download"):
        assert buyer.get(f"/r/{room.token}/{roi_item}{path}").status_code == 404
    assert buyer.post(f"/r/{room.token}/{roi_item}/seen", data={"page": "1", "seconds": "3"}).status_code == 404
    assert "hidden from the buyer" in rep.get(f"/rooms/{room.id}").get_data(as_text=True)


@pytest.mark.parametrize("end", ["revoke", "expire"])
def test_a_revoked_or_expired_room_answers_410_with_a_friendly_page(app, world, client_of, end):
    rep = client_of(world["riley"])
    room = make_room(rep, world["deal"], [world["roi"]])
    [item_id] = item_ids(room)
    if end == "revoke":
        assert post_form(rep, f"/rooms/{room.id}/revoke").status_code == 302
    else:
        with transaction():
            db.session.execute(update(DealRoom).values(expires_at=utcnow() - timedelta(minutes=1)))
    buyer = app.test_client()
    response = buyer.get(f"/r/{room.token}")
    html = response.get_data(as_text=True)
    assert response.status_code == 410 and "This room is no longer available" in html
    assert "riley@example.com" in html and 'href="/login"' not in html
    assert buyer.get(f"/r/{room.token}/{item_id}").status_code == 410
    assert buyer.get(f"/r/{room.token}/{item_id}/pages/1.png").status_code == 410
    assert buyer_events() == []


def test_expiry_must_be_in_the_future_and_the_call_to_action_a_web_address(app, world, client_of):
    rep = client_of(world["riley"])
    url = f"/deals/{world['deal'].id}/room/new"
    base = {"title": "Room", "item": f"asset:{world['roi'].id}"}
    yesterday = (utcnow().date() - timedelta(days=1)).isoformat()
    for fields, said in [({"expires_on": yesterday}, "after today"),
                         ({"cta_label": "Go", "cta_url": "javascript:alert(1)"}, "https://"),
                         ({"cta_label": "Go"}, "both a label and a web address"),
                         ({"item": "asset:x"}, "from the list"), ({"item": []}, "at least one")]:
        response = post_form(rep, url, {**base, **fields})
        assert response.status_code == 422 and said in response.get_data(as_text=True), fields
    assert db.session.scalar(select(DealRoom)) is None


def test_every_buyer_step_is_logged_with_the_deal_and_the_room(app, world, client_of):
    rep = client_of(world["riley"])
    room = make_room(rep, world["deal"], [world["roi"], world["brochure"]])
    roi_item, _ = item_ids(room)
    buyer = app.test_client()
    buyer.get(f"/r/{room.token}", environ_base=BUYER)
    buyer.get(f"/r/{room.token}/{roi_item}", environ_base=BUYER)
    buyer.post(f"/r/{room.token}/{roi_item}/seen", data={"page": "2", "seconds": "9.5"}, environ_base=BUYER)
    buyer.get(f"/r/{room.token}/{roi_item}/download", environ_base=BUYER).close()
    logged = buyer_events()
    assert [e.kind for e in logged] == ["share_open", "share_open", "share_page", "share_download"]
    assert {e.opportunity_id for e in logged} == {world["deal"].id}
    assert {e.context["room_id"] for e in logged} == {room.id} and {e.user_id for e in logged} == {None}
    assert [e.asset_id for e in logged] == [None, world["roi"].id, world["roi"].id, world["roi"].id]
    assert logged[2].context["page"] == 2 and logged[2].context["seconds"] == 9.5
    assert len({e.context["viewer"] for e in logged}) == 1 and "203.0.113.9" not in str(logged[0].context)
    # putting content in the room is sending it in the deal
    html = rep.get(f"/deals/{world['deal'].id}").get_data(as_text=True)
    assert "ROI summary" in html.split("Content sent in this deal")[1]


def test_the_reps_and_managers_own_visits_are_not_counted(app, world, client_of):
    room = make_room(client_of(world["riley"]), world["deal"], [world["roi"]])
    for person in ("riley", "dana", "admin"):
        html = client_of(world[person]).get(f"/r/{room.token}").get_data(as_text=True)
        assert "Your preview" in html
    assert buyer_events() == [] and db.session.scalars(select(Notification)).all() == []


def test_bad_page_reports_are_refused(app, world, client_of):
    room = make_room(client_of(world["riley"]), world["deal"], [world["roi"]])
    [item_id] = item_ids(room)
    buyer = app.test_client()
    for data in ({"page": "4", "seconds": "3"}, {"page": "1", "seconds": "99999"}, {"page": "x", "seconds": "1"},
                 {"seconds": "1"}, {"page": "1", "seconds": "nan"}):
        assert buyer.post(f"/r/{room.token}/{item_id}/seen", data=data).status_code in (404, 422), data
    assert buyer_events("share_page") == []


def test_malformed_and_unknown_addresses_are_404_never_500(app, world, client_of):
    rep = client_of(world["riley"])
    room = make_room(rep, world["deal"], [world["roi"]])
    [item_id] = item_ids(room)
    buyer = app.test_client()
    for path in (f"/r/{room.token[:-1]}x", "/r/" + "a" * 80, f"/r/{room.token}/999999", f"/r/{room.token}/abc",
                 f"/r/{room.token}/{item_id}/pages/0.png", f"/r/{room.token}/{item_id}/pages/99999999999999999.png",
                 f"/r/{room.token}/{2**70}"):
        assert buyer.get(path).status_code == 404, path
    for path in ("/rooms/999999", f"/deals/{2**70}/room/new", "/rooms/abc"):
        assert rep.get(path).status_code == 404, path
    assert post_form(rep, f"/rooms/{room.id}/items/{item_id}/sideways").status_code == 404
    assert post_form(rep, f"/rooms/{room.id}/items/999999/up").status_code == 404
    assert post_form(rep, f"/rooms/{room.id}/explode").status_code == 404


def test_only_the_deals_owner_their_manager_and_admins_manage_its_room(app, world, client_of):
    room = make_room(client_of(world["riley"]), world["deal"], [world["roi"]])
    [item_id] = item_ids(room)
    for person in ("jordan", "taylor", "mara"):
        other = client_of(world[person])
        assert other.get(f"/rooms/{room.id}").status_code == 404, person
        assert other.get(f"/deals/{world['deal'].id}/room/new").status_code == 404, person
        assert post_form(other, f"/rooms/{room.id}/revoke").status_code == 404, person
        assert post_form(other, f"/rooms/{room.id}/items/{item_id}/remove").status_code == 404, person
        assert post_form(other, f"/rooms/{room.id}/items", {"item": f"asset:{world['brochure'].id}"}).status_code == 404
    for person in ("dana", "admin"):
        assert client_of(world[person]).get(f"/rooms/{room.id}").status_code == 200, person
    assert len(item_ids(room)) == 1 and db.session.get(DealRoom, room.id).revoked_at is None
    # a manager's room belongs to the deal's rep: the rep is the contact and gets the alerts
    other_deal = new_deal(world["riley"], "006A2", account="Harbor General")
    made = make_room(client_of(world["dana"]), other_deal, [world["roi"]])
    assert made.user_id == world["riley"].id


def test_one_room_per_deal_and_none_for_closed_deals(app, world, client_of):
    rep = client_of(world["riley"])
    room = make_room(rep, world["deal"], [world["roi"]])
    again = rep.get(f"/deals/{world['deal'].id}/room/new")
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/rooms/{room.id}")
    won = new_deal(world["riley"], "006A3", status="won")
    response = post_form(rep, f"/deals/{won.id}/room/new", {"title": "Late", "item": f"asset:{world['roi'].id}"})
    assert response.status_code == 422 and "closed" in response.get_data(as_text=True)


def test_a_customized_document_goes_in_the_room_of_its_owners_deal(app, world, client_of, make_user):
    from app.documents import authoring, generate

    proposal = world["brochure"]
    authoring.save_template(proposal, "<h1>For {{ customer }}</h1>", "",
                            authoring.parse_fields([{"name": "customer", "label": "Customer", "default": "X"}]),
                            make_user("marketer"))
    document = generate.generate(world["riley"], db.session.get(Asset, proposal.id), {"customer": "Acme Health"},
                                 account="Acme Health")
    rep = client_of(world["riley"])
    room = make_room(rep, world["deal"], [("document", document)])
    [item] = db.session.get(DealRoom, room.id).items
    assert item.document_id == document.id
    html = app.test_client().get(f"/r/{room.token}/{item.id}").get_data(as_text=True)
    assert document.title in html and "data-viewer" in html
    others = generate.generate(world["jordan"], db.session.get(Asset, proposal.id), {"customer": "Other"},
                               account="Other")
    response = post_form(rep, f"/rooms/{room.id}/items", {"item": f"document:{others.id}"})
    assert response.status_code == 422
    assert db.session.scalar(select(DealRoomItem).where(DealRoomItem.document_id == others.id)) is None


def test_room_service_refuses_a_stranger(world):
    with pytest.raises(service.RoomError):
        service.create_room(world["jordan"], world["deal"], service.RoomData("Room"), [f"asset:{world['roi'].id}"])
