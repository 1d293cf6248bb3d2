"""Search: relevance, facets, visibility, syntax, logging, and an index that always follows the database."""
import multiprocessing
import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from app import search, usage
from app.accounts import service as accounts
from app.extensions import db
from app.library import ratings, taxonomy
from app.library.assets import AssetData, save_asset, set_status
from app.models import Asset, Term, UsageEvent
from app.search import index
from app.search.whoosh import schema
from tests.conftest import app_config, post_form


@pytest.fixture
def library(make_asset):
    """A small known library."""
    return {
        "roi": make_asset("Healthcare ROI calculator", kind="one_pager", terms=["Healthcare"],
                          stages=["Decision"], tags=["roi"], body="Total cost of ownership and payback for hospitals."),
        "retail": make_asset("Retail store automation brochure", kind="brochure", terms=["Retail"],
                             stages=["Awareness"], tags=["stores"], body="Automate store opening checklists."),
        "mfg": make_asset("Plant downtime case study", kind="case_study", terms=["Manufacturing"],
                          stages=["Decision"], tags=["downtime", "roi"],
                          body="Kessler cut unplanned downtime; total cost fell."),
        "onboard": make_asset("Onboarding checklist", kind="messaging", terms=["Healthcare", "Retail"],
                              stages=["Consideration"], body="Onboarding steps for new customers."),
    }


def titles(client, url):
    body = client.get(url).get_json()
    return [r["title"] for r in body["results"]], body


def test_search_finds_by_words_and_ranks_title_matches_first(client, login_as, library):
    login_as("rep")
    found, body = titles(client, "/api/v1/search?q=downtime")
    assert found == ["Plant downtime case study"]
    assert body["total"] == 1
    found, _ = titles(client, "/api/v1/search?q=roi")
    assert set(found) == {"Healthcare ROI calculator", "Plant downtime case study"}
    assert found[0] == "Healthcare ROI calculator"  # title beats tag-only


def test_taxonomy_term_and_stage_names_are_searchable_words(client, login_as, library):
    login_as("rep")
    found, _ = titles(client, "/api/v1/search?q=healthcare+decision+roi")
    assert found[0] == "Healthcare ROI calculator"  # the one asset holding all three, then those holding some
    assert "1 result holds every word" in client.get("/search?q=healthcare+decision+roi").get_data(as_text=True)


def test_facet_counts_combine_or_within_and_across(client, login_as, library):
    login_as("rep")
    seg = {t.name: str(t.id) for t in taxonomy.terms()}
    stg = {s.name: str(s.id) for s in taxonomy.stages()}
    _, body = titles(client, "/api/v1/search")
    assert body["total"] == 4
    assert body["facets"]["industry"] == {"Healthcare": 2, "Retail": 2, "Manufacturing": 1}
    assert body["facets"]["kind"] == {"One-pager": 1, "Brochure": 1, "Case study": 1, "Messaging / talk track": 1}
    found, body = titles(client, f"/api/v1/search?term={seg['Healthcare']}&industry=Retail&stage={stg['Decision']}")
    assert found == ["Healthcare ROI calculator"]
    # each facet's counts apply the other facets' choices, not its own
    # Retail stays listed: it is chosen
    assert body["facets"]["industry"] == {"Healthcare": 1, "Retail": 0, "Manufacturing": 1}
    assert body["facets"]["stage"] == {"Awareness": 1, "Consideration": 1, "Decision": 1}


def test_reps_never_find_drafts_archived_or_expired(client, login_as, make_asset, library):
    make_asset("Draft ROI sheet", status="draft", tags=["roi"])
    make_asset("Archived ROI deck", status="archived", tags=["roi"])
    make_asset("Expired ROI report", tags=["roi"], expires_on=date.today() - timedelta(days=1))
    login_as("rep")
    found, _ = titles(client, "/api/v1/search?q=roi")
    assert not {"Draft ROI sheet", "Archived ROI deck", "Expired ROI report"} & set(found)


def test_marketers_find_drafts(app, client, login_as, make_asset):
    make_asset("Draft ROI sheet", status="draft", tags=["roi"])
    login_as("marketer")
    assert titles(client, "/api/v1/search?q=roi")[0] == ["Draft ROI sheet"]


@pytest.mark.parametrize("q, expected", [
    ('"total cost"', {"Healthcare ROI calculator", "Plant downtime case study"}),
    ('"cost total"', set()),
    ("onboard*", {"Onboarding checklist"}),
    ("tag:roi", {"Healthcare ROI calculator", "Plant downtime case study"}),
    ("tag:stores", {"Retail store automation brochure"}),
])
def test_phrase_prefix_and_field_queries(client, login_as, library, q, expected):
    login_as("rep")
    body = client.get("/api/v1/search", query_string={"q": q}).get_json()
    assert {r["title"] for r in body["results"]} == expected


def test_a_phrase_matches_its_words_in_order_through_edits(client, login_as, make_asset):
    """Where the words stand matters: next to each other, in the typed order, in the asset as it is
    now (on PostgreSQL a two-word phrase is answered from the neighbouring pairs alone, migration 0020)."""
    make_asset("Payback sheet", body="Reduce total cost in a quarter.")
    make_asset("Risk sheet", body="Reduce total risk first; the total cost comes later.")
    apart = make_asset("Cost notes", body="Cost matters; total story differs.")
    make_asset("Total cost review", body="Nothing else here.")
    login_as("rep")

    def found(q):
        return set(titles(client, "/api/v1/search?" + f"q={q}")[0])

    assert found('"total cost"') == {"Payback sheet", "Risk sheet", "Total cost review"}
    assert found('"reduce total cost"') == {"Payback sheet"}  # both pairs held apart is not the phrase
    assert found('"cost total"') == set()
    assert found('title:"total cost"') == {"Total cost review"}
    save_asset(AssetData(title="Cost notes", kind="one_pager", status="published",
                         body="Cut the total cost of care."), apart.owner, asset=apart)
    assert found('"total cost"') == {"Payback sheet", "Risk sheet", "Total cost review", "Cost notes"}
    assert found('"total story"') == set()
    assert search.check().clean


@pytest.mark.parametrize("q", ['"unclosed phrase', "tag:", "((((", "AND OR NOT", "*", "x" * 5000,
                               "title:(roi", "\x01\x02 roi", "{[}]~^", "NOT", "o'brien* it's", "back\\slash*",
                               "tag:a'b", 'title:"x\'y" \'', "a:b:c & | ! <-> :*", "tag:50%_off*"])
def test_malformed_or_huge_queries_never_error(client, login_as, library, q):
    login_as("rep")
    response = client.get("/search", query_string={"q": q})
    assert response.status_code == 200
    api = client.get("/api/v1/search", query_string={"q": q})
    assert api.status_code == 200 and "total" in api.get_json()


def test_a_nul_character_in_the_query_is_refused_naming_it(client, login_as, library):
    """NUL is refused in every parameter (app/web/params.py): PostgreSQL text cannot hold one."""
    login_as("rep")
    assert client.get("/search", query_string={"q": "\x00\x01 roi"}).status_code == 422
    api = client.get("/api/v1/search", query_string={"q": "\x00\x01 roi"})
    assert api.status_code == 422 and api.get_json()["error"]["field"] == "q"


def test_a_misspelt_word_is_corrected_in_place_and_both_are_logged(client, login_as, library):
    rep = login_as("rep")
    found, body = titles(client, "/api/v1/search?q=dowmtime")
    assert found == ["Plant downtime case study"] and body["corrected"] == "downtime"
    page = client.get("/search?q=dowmtime").get_data(as_text=True)
    assert re.search(r"Showing results for <a [^>]*><strong>downtime</strong></a>\s*— search instead for "
                     r'<a href="/search\?q=dowmtime&amp;literal=1">dowmtime</a>', page)
    event = db.session.scalars(select(UsageEvent).where(UsageEvent.kind == "search", UsageEvent.user_id == rep.id)
                               ).first()
    assert event.context["query"] == "dowmtime" and event.context["corrected"] == "downtime"
    assert event.context["results"] == 1
    literal = client.get("/api/v1/search?q=dowmtime&literal=1").get_json()
    assert literal["total"] == 0 and literal["corrected"] is None and literal["suggestion"] == "downtime"
    assert "Did you mean" in client.get("/search?q=dowmtime&literal=1").get_data(as_text=True)
    _, nothing = titles(client, "/api/v1/search?q=zzzzqqq")
    assert nothing["total"] == 0 and nothing["corrected"] is None and nothing["suggestion"] is None
    _, spelt = titles(client, "/api/v1/search?q=downtime")
    assert spelt["corrected"] is None


def test_well_used_well_rated_asset_outranks_an_equal_ignored_one(client, login_as, make_asset, make_user):
    ignored = make_asset("Pricing guide for retail", body="pricing guidance")
    loved = make_asset("Pricing guide for retail", body="pricing guidance")
    rep = make_user("rep")
    usage.record(usage.event_row("view", user=rep, asset=loved) for _ in range(5))
    ratings.rate(rep, loved, 5)
    login_as("rep")
    body = client.get("/api/v1/search?q=pricing").get_json()
    assert [r["id"] for r in body["results"]] == [loved.id, ignored.id]
    assert body["results"][0]["score"] > body["results"][1]["score"]
    assert ignored.id < loved.id  # not an accident of insertion order


def test_sorts(client, login_as, make_asset, make_user):
    old = make_asset("Guide A", body="guide")
    used = make_asset("Guide B", body="guide")
    rated = make_asset("Guide C", body="guide")
    rep = make_user("rep")
    usage.record(usage.event_row("download", user=rep, asset=used) for _ in range(3))
    ratings.rate(rep, rated, 5)
    ratings.rate(make_user("rep"), used, 2)
    login_as("rep")
    ids = lambda sort: [r["id"] for r in client.get(f"/api/v1/search?q=guide&sort={sort}").get_json()["results"]]  # noqa: E731
    assert ids("most_used")[0] == used.id
    assert ids("top_rated")[:2] == [rated.id, used.id]
    assert ids("newest") == [rated.id, used.id, old.id]


def test_results_show_snippet_rating_and_uses_and_paginate(client, login_as, make_asset, make_user):
    for n in range(25):
        make_asset(f"Battlecard {n:02d}", kind="battlecard", body=f"Competitor landmine number {n} for battlecard use.")
    login_as("rep")
    page = client.get("/search?q=landmine").get_data(as_text=True)
    assert "25 results" in page and "Page 1 of 2" in page
    assert re.search(r'<mark class="hit[^"]*">landmine</mark>', page)
    second = client.get("/search?q=landmine&page=2").get_data(as_text=True)
    assert second.count('class="result"') == 5
    assert client.get("/search?q=landmine&page=3").status_code == 404  # no "25 results" above "Nothing matches"


def test_highlights_escape_database_text(client, login_as, make_asset):
    make_asset("Hostile", body="<script>alert('x')</script> pricing objection")
    login_as("rep")
    page = client.get("/search?q=pricing").get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;/script&gt;" in page


def test_search_and_click_are_logged(client, login_as, library):
    rep = login_as("rep")
    seg = {t.name: str(t.id) for t in taxonomy.terms()}
    page = client.get(f"/search?q=roi&term={seg['Healthcare']}").get_data(as_text=True)
    [event] = db.session.scalars(select(UsageEvent).where(UsageEvent.kind == "search")).all()
    assert event.user_id == rep.id
    assert event.context == {"query": "roi", "results": 1, "sort": "relevance", "filters": {"Industry": ["Healthcare"]}}
    link = f"/assets/{library['roi'].id}?sid={event.search_id}&amp;pos=1"
    assert link in page
    client.get(link.replace("&amp;", "&"))
    [click] = db.session.scalars(select(UsageEvent).where(UsageEvent.kind == "search_click")).all()
    assert click.asset_id == library["roi"].id and click.search_id == event.search_id
    assert click.user_id == rep.id and click.context == {"position": 1}
    client.get("/search?q=roi&term=1&page=2")
    assert len(db.session.scalars(select(UsageEvent).where(UsageEvent.kind == "search")).all()) == 1


def test_zero_result_search_is_logged_with_zero(client, login_as, library):
    login_as("rep")
    client.get("/search?q=fedramp+spanish")
    event = db.session.scalar(select(UsageEvent).where(UsageEvent.kind == "search"))
    assert event.context["results"] == 0


def test_suggestions_as_you_type(client, login_as, library, make_asset):
    make_asset("Roadmap draft", status="draft")
    login_as("rep")
    body = client.get("/search/suggest?q=onbo").get_json()
    assert {"label": "Onboarding checklist", "kind": "title", "id": library["onboard"].id} in body["suggestions"]
    offered = client.get("/search/suggest?q=ro").get_json()["suggestions"]
    assert [s["label"] for s in offered if s["kind"] == "tag"] == ["roi"]
    assert all(s["label"] != "Roadmap draft" for s in client.get("/search/suggest?q=road").get_json()["suggestions"])


def test_more_like_this_is_fetched_after_the_asset_page_and_opens_as_a_page_without_javascript(
        client, login_as, library, make_asset):
    draft = make_asset("Roadmap draft", status="draft")
    login_as("rep")
    asset_id = library["mfg"].id
    page = client.get(f"/assets/{asset_id}").get_data(as_text=True)
    assert f'data-fragment="/assets/{asset_id}/related"' in page and "Healthcare ROI calculator" not in page
    fragment = client.get(f"/assets/{asset_id}/related", headers={"X-Fragment": "1"})
    assert "More like this" in fragment.get_data(as_text=True)
    assert "Healthcare ROI calculator" in fragment.get_data(as_text=True)
    assert "<html" not in fragment.get_data(as_text=True) and "X-Fragment" in fragment.headers["Vary"]
    whole = client.get(f"/assets/{asset_id}/related").get_data(as_text=True)
    assert "<html" in whole and "Healthcare ROI calculator" in whole
    assert client.get(f"/assets/{draft.id}/related").status_code == 404  # a rep may not see drafts


def test_index_follows_edits_archive_delete_and_taxonomy_rename(client, login_as, library):
    roi = library["roi"]
    login_as("rep")
    data = AssetData(title="Hospital payback model", kind="one_pager", body="payback",
                     term_ids=[t.id for t in roi.terms], stage_ids=[s.id for s in roi.stages],
                     status="published")
    save_asset(data, roi.owner, asset=roi)
    assert titles(client, "/api/v1/search?q=hospital+payback")[0] == ["Hospital payback model"]
    assert titles(client, "/api/v1/search?q=calculator")[0] == []
    healthcare = db.session.scalar(select(Term).where(Term.name == "Healthcare"))
    taxonomy.rename(healthcare, "Life Sciences")
    assert "Hospital payback model" in titles(client, "/api/v1/search?q=life+sciences")[0]
    set_status(library["retail"], "archived")
    assert titles(client, "/api/v1/search?q=store")[0] == []
    post_form(client, "/logout")
    login_as("marketer")
    post_form(client, f"/manage/{library['mfg'].id}/delete")
    assert titles(client, "/api/v1/search?q=kessler")[0] == []
    assert search.check().clean


def test_rolled_back_edit_leaves_the_index_unchanged(app, client, login_as, library):
    roi = library["roi"]
    roi.title = "Secret new title"
    db.session.flush()
    db.session.rollback()
    assert search.pending_count() == 0
    login_as("rep")
    assert titles(client, "/api/v1/search?q=secret")[0] == []
    assert titles(client, "/api/v1/search?q=calculator")[0] == ["Healthcare ROI calculator"]
    assert search.check().clean


@pytest.mark.backends("whoosh")
def test_reindex_and_check_find_and_repair_planted_drift(app, library):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["search", "check"]).exit_code == 0
    # plant drift behind the database's back: a stale title, a deleted row, a ghost document
    with db.engine.begin() as connection:
        connection.execute(Asset.__table__.update().where(Asset.id == library["roi"].id)
                           .values(title="Changed directly"))
        connection.execute(Asset.__table__.delete().where(Asset.id == library["onboard"].id))
    writer = index.backend().open().writer()
    writer.delete_by_term("id", str(library["retail"].id))
    writer.commit()
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 1
    assert f"1 missing from index: {library['retail'].id}" in result.output
    assert f"1 in index but not in database: {library['onboard'].id}" in result.output
    assert f"1 stale in index: {library['roi'].id}" in result.output
    rebuilt = runner.invoke(args=["search", "reindex"])
    assert rebuilt.exit_code == 0 and "Indexed 3 assets" in rebuilt.output
    assert runner.invoke(args=["search", "check"]).exit_code == 0


@pytest.mark.backends("postgres")
def test_check_finds_rows_changed_behind_the_triggers_and_reindex_repairs_them(app, library):
    """PostgreSQL's rows cannot drift unless someone goes around the triggers; `check` still finds it."""
    runner = app.test_cli_runner()
    assert runner.invoke(args=["search", "check"]).exit_code == 0
    with db.engine.begin() as connection:
        connection.execute(text("ALTER TABLE asset DISABLE TRIGGER search_asset_update"))
        connection.execute(Asset.__table__.update().where(Asset.id == library["roi"].id)
                           .values(title="Changed directly"))
        connection.execute(text("ALTER TABLE asset ENABLE TRIGGER search_asset_update"))
        connection.execute(text("DELETE FROM search_document WHERE asset_id = :id"), {"id": library["retail"].id})
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 1
    assert f"1 missing from index: {library['retail'].id}" in result.output
    assert f"1 stale in index: {library['roi'].id}" in result.output
    rebuilt = runner.invoke(args=["search", "reindex"])
    assert rebuilt.exit_code == 0 and "Indexed 4 assets" in rebuilt.output
    assert runner.invoke(args=["search", "check"]).exit_code == 0


@pytest.mark.backends("whoosh")
def test_corrupt_or_missing_index_is_rebuilt_not_a_500(app, client, login_as, library):
    login_as("rep")
    assert titles(client, "/api/v1/search?q=downtime")[0] == ["Plant downtime case study"]
    index.backend().reset()
    current = app.config["DATA_DIR"] / "search-index" / "current"
    for path in current.iterdir():
        if path.suffix in (".toc", ".seg") or path.name.startswith("_MAIN"):
            path.write_bytes(b"garbage")
    assert titles(client, "/api/v1/search?q=downtime")[0] == ["Plant downtime case study"]
    index.backend().reset()
    shutil.rmtree(app.config["DATA_DIR"] / "search-index")
    assert titles(client, "/api/v1/search?q=downtime")[0] == ["Plant downtime case study"]


@pytest.mark.backends("whoosh")
def test_schema_version_change_triggers_rebuild(app, client, login_as, library):
    login_as("rep")
    titles(client, "/api/v1/search?q=roi")
    index.backend().reset()
    marker = app.config["DATA_DIR"] / "search-index" / "current" / "SCHEMA_VERSION"
    marker.write_text("0")
    assert titles(client, "/api/v1/search?q=downtime")[0] == ["Plant downtime case study"]
    assert marker.read_text() == schema.SCHEMA_VERSION


def _write_assets(data_dir: str, prefix: str, count: int, backend: str) -> None:
    """Child process: a separate app on the same database and index, creating assets."""
    from app import create_app

    app = create_app(app_config(Path(data_dir), SEARCH_BACKEND=backend))
    with app.app_context():
        owner = accounts.find_user("writer@example.com")
        for n in range(count):
            save_asset(AssetData(title=f"{prefix} concurrent asset {n}", kind="one_pager",
                                 body=f"{prefix} body", status="published"), owner)


def test_concurrent_writers_in_two_processes_lose_nothing(app, make_user, search_backend):
    make_user("marketer", email="writer@example.com")
    search.rebuild()  # create the index first, as a running site would have
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_write_assets, args=(str(app.config["DATA_DIR"]), p, 15, search_backend))
               for p in ("alpha", "beta")]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
        assert w.exitcode == 0
    search.sync()  # anything a worker queued while the other held the lock
    assert search.pending_count() == 0
    drift = search.check()
    assert drift.clean, drift
    assert len(index.backend().fingerprints()) == 30


def test_more_like_this_puts_the_closest_assets_first_never_the_asset_itself_nor_what_the_rep_may_not_see(
        client, login_as, make_asset):
    make_asset("Hospital staffing ROI one-pager", terms=["Healthcare"], tags=["staffing"],
               body="Nurse staffing, patient flow and overtime costs: hospital staffing payback in six months.")
    closest = make_asset("Nurse staffing case study", terms=["Healthcare"], tags=["staffing"],
                         body="A hospital cut overtime: nurse staffing and patient flow planned weekly.")
    make_asset("Staffing draft for hospitals", status="draft", terms=["Healthcare"],
               body="Nurse staffing, patient flow, overtime: hospital staffing notes.")
    make_asset("Retail store opening checklist", terms=["Retail"], product="Shield",
               body="Store opening steps and shelf audits.")
    make_asset("Warehouse overtime brochure", terms=["Manufacturing"], body="Overtime in warehouses, shift planning.")
    login_as("rep")
    one_pager = db.session.scalar(select(Asset).where(Asset.title == "Hospital staffing ROI one-pager"))
    page = client.get(f"/assets/{one_pager.id}/related", headers={"X-Fragment": "1"}).get_data(as_text=True)
    related = re.findall(r"<h3>([^<]+)</h3>", page.split("More like this")[1])
    assert related[0] == closest.title
    assert "Hospital staffing ROI one-pager" not in related and "Staffing draft for hospitals" not in related
    assert "Retail store opening checklist" not in related  # no word in common
    assert related[-1] == "Warehouse overtime brochure"  # overtime and the product only
    archived = make_asset("Archived staffing brochure", status="archived", terms=["Healthcare"],
                          body="Nurse staffing, patient flow, overtime: hospital staffing payback.")
    post_form(client, "/logout")
    login_as("marketer")  # sees drafts and archived assets in the library, but "more like this" is what can be used
    page = client.get(f"/assets/{one_pager.id}/related", headers={"X-Fragment": "1"}).get_data(as_text=True)
    related = re.findall(r"<h3>([^<]+)</h3>", page.split("More like this")[1])
    assert related[0] == closest.title
    assert archived.title not in related and "Staffing draft for hospitals" not in related


@pytest.mark.backends("postgres")
def test_another_node_finds_a_committed_write_at_once_and_never_an_uncommitted_one(app, make_asset, tmp_path):
    """Two app servers on one PostgreSQL database: no outbox, no index of their own to catch up."""
    from app import create_app
    from app.search.backend import Query, Word

    node_b = create_app(app_config(tmp_path / "node-b", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                                   SEARCH_BACKEND="postgres"))

    def found_on_b(word: str) -> list[int]:
        with node_b.app_context():
            ids = index.backend().match(Query(match=Word(word), visible_on=date.today())).ids
            db.session.remove()
            return ids

    asset = make_asset("Zanzibar rollout plan", body="Rollout steps.")
    assert found_on_b("zanzibar") == [asset.id]
    asset.title = "Quokka rollout plan"
    db.session.flush()  # written, not committed: node B must not see it
    assert found_on_b("quokka") == [] and found_on_b("zanzibar") == [asset.id]
    db.session.rollback()
    assert found_on_b("quokka") == []
    with db.engine.begin() as connection:  # around the ORM, as a restore or a script would
        connection.execute(Asset.__table__.update().where(Asset.id == asset.id).values(status="archived"))
    assert found_on_b("zanzibar") == []
    with node_b.app_context():
        db.engine.dispose()
