"""What reps see: only live assets, the home grid, facets, downloads, copies; every use is logged."""
from datetime import date, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Asset, UsageEvent
from tests.conftest import login, post_form


def events(kind: str) -> list[UsageEvent]:
    return list(db.session.scalars(select(UsageEvent).where(UsageEvent.kind == kind)))


def test_reps_see_only_published_unexpired_assets(client, login_as, make_asset):
    live = make_asset("Live retail one-pager")
    draft = make_asset("Draft pricing sheet", status="draft")
    archived = make_asset("Archived 2024 deck", status="archived")
    expired = make_asset("Expired trends report", expires_on=date.today() - timedelta(days=1))
    expiring_today = make_asset("Expires today", expires_on=date.today())
    login_as("rep")
    listing = client.get("/browse", follow_redirects=True).get_data(as_text=True)
    assert "Live retail one-pager" in listing and "Expires today" in listing
    for hidden in (draft, archived, expired):
        assert hidden.title not in listing
        assert client.get(f"/assets/{hidden.id}").status_code == 404
    assert client.get(f"/assets/{live.id}").status_code == 200
    assert client.get(f"/assets/{expiring_today.id}").status_code == 200


def test_marketer_sees_drafts_with_a_warning(client, login_as, make_asset):
    draft = make_asset("Draft pricing sheet", status="draft")
    login_as("marketer")
    page = client.get(f"/assets/{draft.id}").get_data(as_text=True)
    assert "Draft pricing sheet" in page and "reps cannot see this asset" in page


def test_facets_are_or_within_and_across(client, login_as, make_asset):
    make_asset("Retail decision", terms=["Retail"], stages=["Decision"])
    make_asset("Healthcare decision", terms=["Healthcare"], stages=["Decision"])
    make_asset("Retail awareness", terms=["Retail"], stages=["Awareness"])
    make_asset("Healthcare brochure", kind="brochure", terms=["Healthcare"], stages=["Awareness"])
    login_as("rep")
    ids = {name: i for i, name in enumerate(["Healthcare", "Retail", "Manufacturing"], start=1)}
    either = client.get(f"/search?segment={ids['Healthcare']}&segment={ids['Retail']}&stage=3").get_data(as_text=True)
    assert "Retail decision" in either and "Healthcare decision" in either
    assert "Retail awareness" not in either and "Healthcare brochure" not in either
    by_kind = client.get("/search?kind=brochure").get_data(as_text=True)
    assert "Healthcare brochure" in by_kind and "Retail decision" not in by_kind


def test_home_grid_counts_assets_per_term_and_stage(client, login_as, make_asset):
    make_asset("A", terms=["Retail"], stages=["Decision"])
    make_asset("B", terms=["Retail", "Healthcare"], stages=["Decision"])
    make_asset("Hidden draft", terms=["Retail"], stages=["Decision"], status="draft")
    login_as("rep")
    page = client.get("/").get_data(as_text=True)
    assert 'aria-label="2 assets for Retail, Decision"' in page
    assert 'aria-label="1 assets for Healthcare, Decision"' in page


def test_opening_an_asset_logs_a_view_with_user_and_team(client, login_as, make_asset):
    asset = make_asset()
    rep = login_as("rep", team="Team West")
    client.get(f"/assets/{asset.id}")
    [view] = events("view")
    assert (view.user_id, view.team_id, view.asset_id) == (rep.id, rep.team_id, asset.id)


def test_copying_messaging_is_logged(client, login_as, make_asset):
    asset = make_asset("Elevator pitch", kind="messaging", body="**Say this** first")
    login_as("rep")
    page = client.get(f"/assets/{asset.id}").get_data(as_text=True)
    assert "<strong>Say this</strong>" in page and "Copy text" in page
    assert post_form(client, f"/assets/{asset.id}/copied").status_code == 200
    assert [e.asset_id for e in events("copy")] == [asset.id]


def test_messaging_markdown_is_rendered_safely(client, login_as, make_asset):
    asset = make_asset("Hostile", kind="messaging",
                       body='<script>alert(1)</script> [click](javascript:alert(2)) <img src=x onerror=alert(3)>')
    login_as("rep")
    page = client.get(f"/assets/{asset.id}").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page
    assert 'href="javascript:' not in page and "<img src=x" not in page


def test_popular_assets_come_from_the_usage_log(client, login_as, make_asset):
    hot = make_asset("Hot case study")
    make_asset("Cold brochure")
    login_as("rep")
    for _ in range(3):
        client.get(f"/assets/{hot.id}")
    home = client.get("/").get_data(as_text=True)
    popular = home.split("Popular with reps this month")[1].split("Recently updated")[0]
    assert "Hot case study" in popular and "3 uses in 30 days" in popular
    assert "Cold brochure" not in popular


def test_marketer_edits_metadata_and_archives(client, login_as, make_asset):
    asset = make_asset("Old title")
    login_as("marketer")
    response = post_form(client, f"/manage/{asset.id}/edit", {
        "title": "New title", "kind": "case_study", "status": "published", "terms": ["1"], "stages": ["2"],
        "tags": "ROI, roi , Security", "body": "Updated talk track"})
    assert response.status_code == 302
    db.session.refresh(asset)
    assert (asset.title, asset.kind, asset.tags) == ("New title", "case_study", ["roi", "security"])
    assert [t.name for t in asset.terms] == ["Healthcare"] and [s.name for s in asset.stages] == ["Consideration"]
    post_form(client, f"/manage/{asset.id}/status", {"status": "archived"})
    db.session.refresh(asset)
    assert asset.status == "archived"


def test_asset_needs_some_content(client, login_as):
    login_as("marketer")
    response = post_form(client, "/manage/new", {"title": "Empty", "kind": "one_pager", "status": "draft"})
    assert response.status_code == 422
    assert "Add a file, write the messaging text, or give a video link" in response.get_data(as_text=True)


def test_deleting_an_asset_removes_its_files_but_keeps_history(app, client, login_as, make_user, make_asset,
                                                               sample_files):
    asset = make_asset("With file", upload=(sample_files.pdf(), "brochure.pdf"))
    reader = make_user("rep")
    rep = app.test_client()
    login(rep, reader.email)
    rep.get(f"/assets/{asset.id}")
    login_as("marketer")
    assert any(app.config["FILES_DIR"].glob("*.pdf"))
    assert post_form(client, f"/manage/{asset.id}/delete").status_code == 302
    assert not any(app.config["FILES_DIR"].glob("*.pdf"))
    [view] = events("view")
    assert view.asset_id is None and view.user_id == reader.id


def test_the_audience_is_set_on_the_form_and_reps_see_the_badge_before_they_try(client, login_as, make_asset):
    login_as("marketer")
    form = client.get("/manage/new").get_data(as_text=True)
    assert "By kind: internal for messaging, battlecards and email templates" in form
    made = post_form(client, "/manage/new", {"title": "Discount approval bands", "kind": "one_pager",
                                             "status": "published", "segments": ["1"], "stages": ["1"],
                                             "body": "Bands by deal size.", "audience": "internal"})
    internal = db.session.get(Asset, int(made.headers["Location"].rsplit("/", 1)[1]))
    talk = make_asset("Retail talk track", kind="messaging", tags=["bands"])
    brochure = make_asset("Retail brochure", tags=["bands"])
    assert (internal.audience, talk.audience, brochure.audience) == ("internal", "internal", "customer")
    assert '<option selected value="internal">' in client.get(f"/manage/{internal.id}/edit").get_data(as_text=True)
    post_form(client, "/logout")
    login_as("rep")
    page = client.get(f"/assets/{internal.id}").get_data(as_text=True)
    assert "Internal only" in page and "cannot be shared with a prospect" in page
    results = client.get("/search?q=bands").get_data(as_text=True)
    assert results.count("badge-internal") == 2  # the internal one-pager and the talk track, not the brochure
    recent = client.get("/").get_data(as_text=True).split("Recently updated")[1]
    assert recent.count("badge-internal") == 2
