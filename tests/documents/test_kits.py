"""Pitch kits: a draft kept on the server, built into one PDF a customer can read, with nothing internal in it."""
from __future__ import annotations

import io
import re

import pypdf
import pytest
from sqlalchemy import select

from app.documents import authoring
from app.extensions import db
from app.library import assets as library
from app.models import GeneratedDocument, KitDraftItem, ShareLink, UsageEvent
from tests.conftest import login, post_form
from tests.pdfs import internal_addresses, link_targets, page_texts

PREVIEWS = {"OFFICE_PREVIEWS": True}


def kit_form(**fields) -> dict:
    return {"account": "", "title": "", "intro": "", **fields}


def draft_items() -> list[KitDraftItem]:
    return list(db.session.scalars(select(KitDraftItem).order_by(KitDraftItem.position)))


@pytest.fixture
def rep(client, make_user):
    user = make_user("rep", name="Riley Park", email="riley@lumenfold.example")
    login(client, user.email)
    return user


def test_the_draft_keeps_its_items_across_searches_pages_and_sessions(client, rep, make_asset, sample_files):
    brochure = make_asset("Platform brochure", upload=(sample_files.pdf(pages=["Platform"]), "platform.pdf"))
    case = make_asset("Northgate retail case study", kind="case_study", body="380 stores automated.")
    added = post_form(client, "/kits/items", {"asset": str(brochure.id), "next": "/search?q=platform"})
    assert added.status_code == 302 and added.headers["Location"] == "/search?q=platform"
    picker = client.get("/kits/new?q=northgate").get_data(as_text=True)
    assert "Platform brochure" in picker and "Northgate retail case study" in picker
    post_form(client, "/kits/new", kit_form(add_asset=str(case.id), account="Northgate Markets", q="northgate"))
    saved = post_form(client, "/kits/new", kit_form(save="1", account="Northgate Markets"))
    assert "Saved. Your pitch kit waits here" in client.get(saved.headers["Location"]).get_data(as_text=True)
    again = client.get("/kits/new?q=something+else").get_data(as_text=True)  # a new search keeps both
    assert "Platform brochure" in again and "Northgate retail case study" in again
    assert ">2 items<" in again and 'value="Northgate Markets"' in again

    post_form(client, "/logout")
    login(client, rep.email)
    home = client.get("/").get_data(as_text=True)
    assert 'aria-label="Pitch kit: 2 items"' in home and '<span class="nav-count">2</span>' in home
    first, second = draft_items()
    post_form(client, "/kits/new", kit_form(up=str(second.id), account="Northgate Markets"))
    assert [i.asset_id for i in draft_items()] == [case.id, brochure.id]
    post_form(client, "/kits/new", kit_form(remove=str(first.id), account="Northgate Markets"))
    assert [i.asset_id for i in draft_items()] == [case.id]
    assert post_form(client, "/kits/items", {"asset": str(case.id)}).status_code == 302  # added twice: once
    assert len(draft_items()) == 1


def test_a_rep_adds_a_saved_collection_and_their_own_documents(client, rep, make_asset, make_user):
    proposal = make_asset("Proposal letter")
    authoring.save_template(proposal, "<h1>Proposal for {{ customer }}</h1>", "",
                            authoring.parse_fields([{"name": "customer", "required": True}]), make_user("marketer"))
    post_form(client, f"/assets/{proposal.id}/customize", {"customer": "Harbor CU", "action": "create"})
    document = db.session.scalar(select(GeneratedDocument))
    one, two = make_asset("Shield one-pager"), make_asset("Shield talk track", kind="messaging")
    post_form(client, "/collections", {"name": "Banking", "ids": [str(one.id), str(two.id)]})
    collection_id = client.get("/collections").get_data(as_text=True).split("/collections/")[1].split('"')[0]
    done = post_form(client, "/kits/new", {"collection": collection_id, "add_collection": "1"},
                     follow_redirects=True).get_data(as_text=True)
    assert "Added 1 from “Banking”; 1 internal, templates to customize first, or already there." in done
    post_form(client, "/kits/items", {"document": str(document.id)})
    assert [(i.asset_id, i.document_id) for i in draft_items()] == [(one.id, None), (None, document.id)]


def test_a_template_with_nothing_of_its_own_reaches_a_prospect_only_as_the_document_made_from_it(
        client, rep, make_asset, make_user, sample_files):
    """A customizable asset with no file or link of its own is a template whose text is for reps ("Use
    Customize for a customer…"): a trial's buyer got that page inside a kit built from a collection.
    What goes out is the customized PDF. A customizable one-pager with its own PDF still goes as it is."""
    marketer = make_user("marketer")
    fields = authoring.parse_fields([{"name": "customer", "required": True}])
    letter = make_asset("Proposal cover letter", kind="one_pager",
                        body="Use Customize for a customer to fill in the contact; Bridge signs it.")
    authoring.save_template(letter, "<h1>Dear {{ customer }}</h1>", "", fields, marketer)
    one_pager = make_asset("Hospital one-pager", upload=(sample_files.pdf(pages=["For any hospital"]), "h.pdf"))
    authoring.save_template(one_pager, "<h1>For {{ customer }}</h1>", "", fields, marketer)
    refused = post_form(client, "/kits/items", {"asset": str(letter.id)}, follow_redirects=True).get_data(as_text=True)
    assert "“Proposal cover letter” is a template: customize it for the customer first" in refused
    assert draft_items() == []
    post_form(client, "/collections", {"name": "Proposal", "ids": [str(letter.id), str(one_pager.id)]})
    collection_id = client.get("/collections").get_data(as_text=True).split("/collections/")[1].split('"')[0]
    post_form(client, "/kits/new", {"collection": collection_id, "add_collection": "1"})
    assert [i.asset_id for i in draft_items()] == [one_pager.id]
    page = client.get(f"/assets/{letter.id}").get_data(as_text=True)
    assert "Customize for a customer" in page and "Add to pitch kit" not in page and "Share with a prospect" not in page
    shared = post_form(client, f"/share/new?asset={letter.id}", {"expires": "7"})
    assert shared.status_code in (400, 422) and "is a template" in shared.get_data(as_text=True)
    assert "Share with a prospect" in client.get(f"/assets/{one_pager.id}").get_data(as_text=True)
    post_form(client, f"/assets/{letter.id}/customize", {"customer": "Harbor CU", "action": "create"})
    document = db.session.scalar(select(GeneratedDocument))
    post_form(client, "/kits/items", {"document": str(document.id)})
    assert [(i.asset_id, i.document_id) for i in draft_items()] == [(one_pager.id, None), (None, document.id)]


def test_internal_assets_stay_out_of_kits(client, rep, make_asset):
    pricing = make_asset("Pricing and Discount Guidance", kind="messaging", body="Discount bands: 10-25%.")
    refused = post_form(client, "/kits/items", {"asset": str(pricing.id)}, follow_redirects=True)
    assert "internal only: it cannot be put in a pitch kit" in refused.get_data(as_text=True)
    assert draft_items() == []
    page = client.get(f"/assets/{pricing.id}").get_data(as_text=True)
    assert "Internal only" in page and "Add to pitch kit" not in page and "Share with a prospect" not in page
    # an asset marked internal after it was added: the kit says so and will not build
    deck = make_asset("Executive deck", body="Customer-facing, for now.")
    post_form(client, "/kits/items", {"asset": str(deck.id)})
    library.save_asset(library.AssetData(title=deck.title, kind=deck.kind, body=deck.body, status="published",
                                         audience="internal"), deck.owner, asset=deck)
    built = post_form(client, "/kits/new", kit_form(build="1", account="Acme"))
    assert built.status_code == 400 and "“Executive deck” is internal only" in built.get_data(as_text=True)
    assert db.session.scalars(select(GeneratedDocument)).all() == []


@pytest.mark.parametrize("app", [PREVIEWS], indirect=True)
def test_a_kit_holds_each_part_as_its_pages_and_nothing_that_leads_into_bridge(app, client, rep, make_asset,
                                                                              make_user, sample_files):
    brochure = make_asset("Platform brochure", kind="brochure",
                          upload=(sample_files.pdf(pages=["Brochure page one", "Brochure page two"]), "brochure.pdf"))
    deck = make_asset("Executive deck", kind="slide_deck",
                      upload=(sample_files.pptx(slides=["Quarterly business review", "Next steps together"]),
                              "deck.pptx"))
    assert deck.current_version.page_count == 2 and deck.current_version.preview_name  # converted at upload
    video = make_asset("Platform tour video", kind="video_link", url="https://videos.example/tour")
    photo = make_asset("Control room photo", kind="brochure", upload=(sample_files.png(), "room.png"))
    proposal = make_asset("Proposal letter")
    authoring.save_template(proposal, "<h1>Proposal for {{ customer }}</h1>", "",
                            authoring.parse_fields([{"name": "customer", "required": True}]), make_user("marketer"))
    post_form(client, f"/assets/{proposal.id}/customize", {"customer": "Mercy Regional", "action": "create"})
    document = db.session.scalar(select(GeneratedDocument))
    for asset in (brochure, deck, video, photo):
        post_form(client, "/kits/items", {"asset": str(asset.id)})
    post_form(client, "/kits/items", {"document": str(document.id)})
    letter = "Dear Dr. Rivera,\n\nAs promised, three things:\nthe brochure,\nthe deck.\n\nBest <b>regards</b> & thanks"
    response = post_form(client, "/kits/new", kit_form(build="1", account="Mercy Regional",
                                                       title="Operations in one view", intro=letter))
    assert response.status_code == 302, response.get_data(as_text=True)
    kit = db.session.scalar(select(GeneratedDocument).where(GeneratedDocument.asset_id.is_(None)))
    with client.get(f"/documents/{kit.id}/download") as download:
        data = download.data
    pages = page_texts(data)
    # cover, letter, contents, brochure 2, deck 2, video 1, photo 1, the customized proposal 1
    assert len(pages) == kit.page_count == 10
    assert "Operations in one view" in pages[0] and "Mercy Regional" in pages[0] and "Riley Park" in pages[0]
    assert "As promised, three things:" in pages[1] and "Best <b>regards</b> & thanks" in pages[1]
    lines = pypdf.PdfReader(io.BytesIO(data)).pages[1].extract_text().splitlines()
    assert [line.strip() for line in lines if line.strip() in ("the brochure,", "the deck.")] == [
        "the brochure,", "the deck."]  # line breaks inside a paragraph are kept
    assert re.search(r"Platform brochure 4 .*Executive deck 6 .*Proposal letter — Mercy Regional 10", pages[2])
    assert pages[3:5] == ["Brochure page one", "Brochure page two"]
    assert "Quarterly business review" in pages[5] and "Next steps together" in pages[6]  # the slides themselves
    assert "https://videos.example/tour" in pages[7] and "https://videos.example/tour" in link_targets(data)
    assert "Control room photo" in pages[8]
    assert "Proposal for Mercy Regional" in pages[9]
    assert internal_addresses(data) == []
    for made in db.session.scalars(select(GeneratedDocument)):  # every PDF made on the way, too
        assert internal_addresses((app.config["FILES_DIR"] / made.stored_name).read_bytes()) == []
    assert draft_items() == []  # built: the draft starts empty again
    customized = db.session.scalars(select(UsageEvent).where(UsageEvent.kind == "customize",
                                                             UsageEvent.context["kit"].as_boolean())).all()
    assert sorted(e.asset_id for e in customized) == sorted([brochure.id, deck.id, video.id, photo.id])
    restored = post_form(client, f"/kits/{kit.id}/restore", {}, follow_redirects=True).get_data(as_text=True)
    assert "holds the 5 items" in restored and "Best &lt;b&gt;regards&lt;/b&gt;" in restored


def test_a_pdf_the_kit_cannot_open_gets_a_page_saying_whom_to_ask(app, client, rep, make_asset, sample_files):
    damaged = make_asset("Price list", upload=(sample_files.pdf(), "prices.pdf"))
    (app.config["FILES_DIR"] / damaged.current_version.stored_name).write_bytes(b"%PDF-1.7 damaged on disk")
    deck = make_asset("Unconverted deck", kind="slide_deck",
                      upload=(sample_files.pptx(slides=["Slide words"]), "deck.pptx"))  # previews off here
    post_form(client, "/kits/items", {"asset": str(damaged.id)})
    post_form(client, "/kits/items", {"asset": str(deck.id)})
    assert post_form(client, "/kits/new", kit_form(build="1", account="Acme")).status_code == 302
    kit = db.session.scalar(select(GeneratedDocument))
    with client.get(f"/documents/{kit.id}/download") as download:
        pages = page_texts(download.data)
    assert len(pages) == 4
    assert "could not be included; Riley Park can send it to you separately" in pages[2]
    assert "Unconverted deck" in pages[3] and "Riley Park can send you the original" in pages[3]
    assert internal_addresses(download.data) == []
    # the prospect sees the kit by its cover's title; "Pitch kit — Acme" is the rep's name for it
    assert "Pitch kit — Acme" in client.get("/documents").get_data(as_text=True)
    shared = post_form(client, f"/share/new?document={kit.id}", {"expires": "7", "allow_download": "y"})
    assert shared.status_code == 302
    token = db.session.scalar(select(ShareLink.token))
    prospect = app.test_client()
    page = prospect.get(f"/s/{token}").get_data(as_text=True)
    assert re.search(r"<h1>\s*Prepared for Acme\s*</h1>", page) and "Pitch kit" not in page
    with prospect.get(f"/s/{token}/download") as file:
        assert file.headers["Content-Disposition"] == 'attachment; filename="Prepared for Acme.pdf"'


def test_a_kit_needs_an_account_and_something_in_it(client, rep, make_asset):
    assert "Say which account" in post_form(client, "/kits/new", kit_form(build="1")).get_data(as_text=True)
    one = make_asset("One-pager")
    post_form(client, "/kits/items", {"asset": str(one.id)})
    assert post_form(client, "/kits/new", kit_form(build="1")).status_code == 400
    draft = make_asset("Draft sheet", status="draft")
    assert post_form(client, "/kits/items", {"asset": str(draft.id)}).status_code == 404
    assert db.session.scalars(select(GeneratedDocument)).all() == []
