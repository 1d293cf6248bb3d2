"""Saved collections: a rep keeps named lists of assets and builds a pitch kit from one."""
from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.library import assets as asset_service
from app.models import Collection, CollectionItem, GeneratedDocument
from tests.conftest import login, post_form


def collection_named(name: str) -> Collection:
    return db.session.scalar(select(Collection).where(Collection.name == name))


def titles_on(page: str) -> list[str]:
    return re.findall(r"<strong>([^<]+)</strong>", page)


def test_save_assets_from_their_pages_into_new_and_existing_collections(client, login_as, make_asset):
    first, second = make_asset("Hospital ROI summary"), make_asset("Clinic case study")
    login_as("rep")
    response = post_form(client, f"/assets/{first.id}/collect", {"name": "  Hospital   decision "})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/assets/{first.id}")
    saved = collection_named("Hospital decision")  # spacing folded
    asset_page = client.get(f"/assets/{second.id}").get_data(as_text=True)
    assert "Save to collection" in asset_page and f'value="{saved.id}">Hospital decision (1)' in asset_page
    post_form(client, f"/assets/{second.id}/collect", {"collection": str(saved.id)})
    again = post_form(client, f"/assets/{second.id}/collect", {"collection": str(saved.id)}, follow_redirects=True)
    assert "is already in" in again.get_data(as_text=True)
    page = client.get(f"/collections/{saved.id}").get_data(as_text=True)
    assert titles_on(page) == ["Hospital ROI summary", "Clinic case study"]  # in the order saved
    listing = client.get("/collections").get_data(as_text=True)
    assert "Hospital decision" in listing and "2 assets" in listing


def test_names_are_checked(client, login_as, make_asset):
    item = make_asset()
    login_as("rep")
    post_form(client, "/collections", {"name": "Renewals"})
    for name, message in (("", "Give the collection a name."), ("renewals".title(), "already have a collection"),
                          ("x" * 81, "under 80 characters")):
        response = post_form(client, "/collections", {"name": name})
        assert response.status_code == 400 and message in response.get_data(as_text=True)
    answer = post_form(client, f"/assets/{item.id}/collect", {"name": "Renewals"}, follow_redirects=True)
    assert "already have a collection" in answer.get_data(as_text=True)
    assert db.session.scalars(select(Collection.name)).all() == ["Renewals"]
    assert db.session.scalars(select(CollectionItem)).all() == []


def test_a_pitch_kit_from_a_collection(client, login_as, make_asset):
    brochure, story = make_asset("Platform brochure"), make_asset("Northgate case study", kind="case_study")
    talk = make_asset("Pricing talk track", kind="messaging")
    login_as("rep")
    post_form(client, f"/assets/{brochure.id}/collect", {"name": "Mercy"})
    kit_source = collection_named("Mercy")
    for asset in (talk, story):
        post_form(client, f"/assets/{asset.id}/collect", {"collection": str(kit_source.id)})
    shown = client.get(f"/collections/{kit_source.id}").get_data(as_text=True)
    assert "Add these to my pitch kit" in shown
    added = post_form(client, "/kits/new", {"collection": str(kit_source.id), "add_collection": "1"},
                      follow_redirects=True).get_data(as_text=True)
    # the talk track is internal
    assert "Added 2 from “Mercy”; 1 internal, templates to customize first, or already there." in added
    response = post_form(client, "/kits/new", {"build": "1", "account": "Mercy Regional", "title": "", "intro": ""})
    assert response.status_code == 302
    kit = db.session.scalar(select(GeneratedDocument))
    assert kit.page_count == 4 and kit.account == "Mercy Regional"  # cover, contents, one summary page each
    assert kit.values["kit"] == [brochure.id, story.id]


def test_the_kit_page_saves_its_choice_as_a_collection(client, login_as, make_asset):
    one, two = make_asset("One"), make_asset("Two")
    login_as("rep")
    response = post_form(client, "/collections", {"name": "From the kit page", "ids": [str(two.id), str(one.id)]})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert titles_on(page) == ["Two", "One"]


def test_unpublished_assets_are_hidden_but_kept(client, login_as, make_asset):
    item, later = make_asset("Soon archived"), make_asset("Stays")
    login_as("rep")
    post_form(client, f"/assets/{item.id}/collect", {"name": "Mine"})
    mine = collection_named("Mine")
    post_form(client, f"/assets/{later.id}/collect", {"collection": str(mine.id)})
    asset_service.set_status(item, "archived")
    page = client.get(f"/collections/{mine.id}").get_data(as_text=True)
    assert titles_on(page) == ["Stays"] and "1 saved asset is no longer published" in page
    picker = client.get(f"/kits/new?collection={mine.id}").get_data(as_text=True)
    assert "Soon archived" not in picker
    assert len(db.session.get(Collection, mine.id).items) == 2


def test_remove_rename_delete(client, login_as, make_asset):
    item = make_asset("Kept asset")
    login_as("rep")
    post_form(client, f"/assets/{item.id}/collect", {"name": "Old name"})
    mine = collection_named("Old name")
    post_form(client, f"/collections/{mine.id}/rename", {"name": "New name"})
    assert db.session.get(Collection, mine.id).name == "New name"
    post_form(client, f"/collections/{mine.id}/remove/{item.id}")
    assert "Nothing here yet" in client.get(f"/collections/{mine.id}").get_data(as_text=True)
    deleted = post_form(client, f"/collections/{mine.id}/delete", follow_redirects=True)
    assert "Deleted “New name”" in deleted.get_data(as_text=True)
    assert db.session.scalars(select(Collection)).all() == []
    assert client.get(f"/assets/{item.id}").status_code == 200  # the asset itself is untouched


def test_collections_are_private(app, client, make_user, make_asset):
    item = make_asset()
    owner, other = make_user("rep"), make_user("rep")
    login(client, owner.email)
    post_form(client, f"/assets/{item.id}/collect", {"name": "Private list"})
    mine = collection_named("Private list")
    post_form(client, "/logout")
    login(client, other.email)
    assert client.get(f"/collections/{mine.id}").status_code == 404
    assert post_form(client, f"/collections/{mine.id}/delete").status_code == 404
    assert post_form(client, f"/assets/{item.id}/collect", {"collection": str(mine.id)}).status_code == 404
    assert "Private list" not in client.get("/collections").get_data(as_text=True)
    assert "Private list" not in client.get(f"/kits/new?collection={mine.id}").get_data(as_text=True)
    assert len(db.session.get(Collection, mine.id).items) == 1


def test_forms_need_their_csrf_token(client, login_as, make_asset):
    item = make_asset()
    login_as("rep")
    response = client.post(f"/assets/{item.id}/collect", data={"name": "No token"})
    assert response.status_code == 400
    assert db.session.scalars(select(Collection)).all() == []
