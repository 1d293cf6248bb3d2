"""Coverage cells open onto their assets and offer a new asset for the cell; the grid is coloured by the
share of ignored assets; content gaps say what their query finds now, can seed an asset or be dismissed,
and move to Resolved once answered or dismissed."""
import re

from app import usage
from app.extensions import db
from app.library import taxonomy
from app.models import DismissedGap
from tests.conftest import login, post_form
from tests.factories import aged
from tests.insights.reading import csv_rows, html_table


def ids(name):
    return next(t.id for t in taxonomy.terms() if t.name == name)


def stage_id(name):
    return next(s.id for s in taxonomy.stages() if s.name == name)


def test_a_cell_opens_onto_its_assets_and_their_uses(client, make_user, make_asset):
    used = aged(make_asset("Retail decision deck", terms=["Retail"], stages=["Decision"]), 30)
    aged(make_asset("Retail decision sheet", terms=["Retail"], stages=["Decision"]), 30)
    make_asset("Retail awareness brochure", terms=["Retail"], stages=["Awareness"])  # new: not ignored
    rep = make_user("rep")
    usage.record([usage.event_row("view", user=rep, asset=used), usage.event_row("download", user=rep, asset=used)])
    login(client, make_user("marketer", team="Marketing").email)
    grid = client.get("/insights/coverage?days=7").get_data(as_text=True)
    link = f"/insights/coverage/cell?days=7&amp;cell_term={ids('Retail')}&amp;cell_stage={stage_id('Decision')}"
    assert f'href="{link}"' in grid
    # one of two assets ignored: 50%, the middle of the scale; the awareness cell is all ignored
    assert 'class="cell-partly-ignored heat-5" title="Retail × Decision: 2 assets, 2 uses, 1 ignored"' in grid
    assert "2 uses · 1 per asset" in grid and "50% ignored" in grid
    assert 'class="cell-new" title="Retail × Awareness: 1 assets, 0 uses, 0 ignored"' in grid and "1 new" in grid
    assert "Colour: share of the cell’s assets not used in the period" in grid
    page = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert html_table(page, "coverage-cell")[1:] == [
        ["Retail decision deck", "One-pager", used.owner.name, "2", "1", "1", "0", "0", "0", re.search(
            r"\d{4}-\d\d-\d\d \d\d:\d\d", page)[0]],
        ["Retail decision sheet", "One-pager", used.owner.name, "0", "0", "0", "0", "0", "0", ""]]
    new = f'/manage/new?term={ids("Retail")}&amp;stage={stage_id("Decision")}'
    assert f'href="{new}"' in page and "Create an asset for this cell" in page
    form = client.get(new.replace("&amp;", "&")).get_data(as_text=True)
    assert re.search(rf'<input[^>]*checked[^>]*value="{ids("Retail")}"|<input[^>]*value="{ids("Retail")}"[^>]*checked',
                     form)
    assert re.search(rf'value="{stage_id("Decision")}"[^>]*checked|checked[^>]*value="{stage_id("Decision")}"', form)
    assert client.get("/insights/coverage/cell?cell_term=999999&cell_stage=1").status_code == 404
    assert client.get("/insights/coverage/cell?cell_term=x&cell_stage=1").status_code in (404, 422)


def test_gap_shows_results_now_moves_to_resolved_when_answered_and_can_be_dismissed(client, make_user, make_asset):
    rep, marketer = make_user("rep"), make_user("marketer", team="Marketing")
    login(client, rep.email)
    client.get("/search?q=manufacturing+downtime")
    client.get("/search?q=fedramp")
    post_form(client, "/logout")
    login(client, marketer.email)
    page = client.get("/insights/gaps").get_data(as_text=True)
    assert [r[0] for r in html_table(page, "content-gaps")[1:]] == ["fedramp", "manufacturing downtime"]
    assert 'href="/manage/new?title=Manufacturing+downtime&amp;tags=manufacturing,+downtime"' in page
    form = client.get("/manage/new?title=Manufacturing+downtime&tags=manufacturing,+downtime").get_data(as_text=True)
    assert 'value="Manufacturing downtime"' in form and 'value="manufacturing, downtime"' in form

    make_asset("Plant downtime case study", terms=["Manufacturing"], body="manufacturing downtime cut by half")
    page = client.get("/insights/gaps").get_data(as_text=True)
    assert [r[0] for r in html_table(page, "content-gaps")[1:]] == ["fedramp"]
    [answered] = html_table(page, "resolved-gaps")[1:]
    assert answered[:5] == ["manufacturing downtime", "1", "1", "0", "1"]
    assert answered[6] == "Answered: finds 1 now"

    done = post_form(client, "/insights/gaps/dismiss", {"query": "FedRAMP", "next": "/insights/gaps?days=7"})
    assert done.headers["Location"] == "/insights/gaps?days=7"
    assert db.session.query(DismissedGap.query).all() == [("fedramp",)]
    page = client.get("/insights/gaps?days=7").get_data(as_text=True)
    assert "Dismissed “fedramp”: it is listed under Resolved." in page
    assert {r[0]: r[6] for r in html_table(page, "resolved-gaps")[1:]} == {
        "fedramp": "Dismissed", "manufacturing downtime": "Answered: finds 1 now"}
    assert [r[0] for r in csv_rows(client, "/insights/gaps?days=7&format=csv&table=resolved-gaps")[1:]] == [
        "fedramp", "manufacturing downtime"]
    post_form(client, "/insights/gaps/dismiss", {"query": "fedramp", "restore": "1"})
    page = client.get("/insights/gaps").get_data(as_text=True)
    assert [r[0] for r in html_table(page, "content-gaps")[1:]] == ["fedramp"]

    # Answered, then searched again: it finds the new asset and nobody opens it. It leads nowhere: a gap again.
    post_form(client, "/logout")
    login(client, rep.email)
    client.get("/search?q=manufacturing+downtime")
    post_form(client, "/logout")
    login(client, marketer.email)
    page = client.get("/insights/gaps").get_data(as_text=True)
    rows = {r[0]: r[1:5] for r in html_table(page, "content-gaps")[1:]}
    assert rows["manufacturing downtime"] == ["2", "1", "1", "1"]  # searches, zero results, no click, results now
    assert "Answered: finds" not in page


def test_managers_see_gaps_but_cannot_dismiss_them(client, make_user):
    login(client, make_user("rep").email)
    client.get("/search?q=fedramp")
    post_form(client, "/logout")
    login(client, make_user("manager").email)
    page = client.get("/insights/gaps").get_data(as_text=True)
    assert "fedramp" in page and "Dismiss" not in page
    assert post_form(client, "/insights/gaps/dismiss", {"query": "fedramp"}).status_code == 403
