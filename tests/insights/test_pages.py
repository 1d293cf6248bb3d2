"""Insights from single actions: what a rep's search or look does to the figures a marketer sees,
exports, access, and errors; each test on its own empty database."""
from __future__ import annotations

import re

from app import usage
from app.library import ratings
from tests.conftest import login, post_form
from tests.factories import aged
from tests.insights.reading import csv_rows, html_table


def test_coverage_grid_marks_empty_and_ignored_cells(app, marketer_client, make_asset):
    aged(make_asset("Only retail decision", terms=["Retail"], stages=["Decision"]), 30)
    page = marketer_client.get("/insights/coverage").get_data(as_text=True)
    assert 'class="cell-ignored heat-10" title="Retail × Decision: 1 assets, 0 uses, 1 ignored"' in page
    assert 'class="cell-empty" title="Healthcare × Awareness: 0 assets' in page


def test_zero_result_search_shows_in_content_gaps(client, login_as, make_asset):
    make_asset("Retail ROI one-pager")
    login_as("rep")
    client.get("/search?q=fedramp+moderate")
    client.get("/search?q=FedRAMP  moderate")
    client.get("/search?q=cost of a fedramp audit")
    post_form(client, "/logout")
    login_as("marketer")
    page = client.get("/insights/gaps").get_data(as_text=True)
    assert html_table(page, "content-gaps")[1:] == [["fedramp moderate", "2", "2", "0", "0", ""],
                                                    ["cost of a fedramp audit", "1", "1", "0", "0", ""]]
    created = re.findall(r'<a href="(/manage/new[^"]+)">Create from this gap</a>', page)
    assert len(created) == 2
    form = client.get(created[1].replace("&amp;", "&")).get_data(as_text=True)
    assert 'value="Cost of a fedramp audit"' in form and 'value="cost, fedramp, audit"' in form  # no "of", no "a"
    assert client.get("/api/v1/insights/content-gaps").get_json()["queries"] == [
        {"query": "fedramp moderate", "searches": 2, "zero_results": 2, "no_click": 0},
        {"query": "cost of a fedramp audit", "searches": 1, "zero_results": 1, "no_click": 0}]


def test_search_then_click_is_not_a_gap_but_search_without_click_is(client, login_as, make_asset):
    asset = make_asset("Retail ROI one-pager", body="roi numbers")
    login_as("rep")
    page = client.get("/search?q=roi").get_data(as_text=True)
    sid = re.search(r'sid=([0-9a-f]{16})', page)[1]
    client.get(f"/assets/{asset.id}?sid={sid}&pos=1")
    client.get("/search?q=numbers")
    post_form(client, "/logout")
    login_as("marketer")
    body = client.get("/api/v1/insights/content-gaps").get_json()
    assert body["queries"] == [{"query": "numbers", "searches": 1, "zero_results": 0, "no_click": 1}]


def test_csv_neutralises_spreadsheet_formulas(client, login_as):
    login_as("rep")
    client.get("/search?q=%3DHYPERLINK(%22http://evil%22)")
    post_form(client, "/logout")
    login_as("marketer")
    rows = csv_rows(client, "/insights/gaps?format=csv")
    assert rows[1][0] == "'=hyperlink(\"http://evil\")"


def test_reps_get_403_on_insights(client, login_as):
    login_as("rep")
    for path in ["/insights/", "/insights/report.pdf", "/api/v1/insights/ignored?days=30",
                 "/api/v1/insights/coverage", "/api/v1/insights/content-gaps?days=7"]:
        assert client.get(path).status_code == 403, path


def test_bad_week_is_a_clear_400(client, login_as):
    login_as("marketer")
    response = client.get("/insights/report.pdf?week=last-tuesday")
    assert response.status_code == 400 and "ISO week like 2026-W47" in response.get_data(as_text=True)


def test_asset_stats_api(client, login_as, make_asset, make_user):
    asset = make_asset()
    rep = make_user("rep")
    usage.record([usage.event_row("view", user=rep, asset=asset), usage.event_row("view", user=rep, asset=asset),
                  usage.event_row("download", user=rep, asset=asset)])
    ratings.rate(rep, asset, 4)
    ratings.rate(make_user("rep"), asset, 2)
    login_as("rep")
    body = client.get(f"/api/v1/assets/{asset.id}/stats").get_json()
    assert body["uses"] == {"view": 2, "download": 1, "rate": 2} and body["rating"] == {"average": 3.0, "count": 2}
    draft = make_asset("Draft", status="draft")
    assert client.get(f"/api/v1/assets/{draft.id}/stats").status_code == 404


def test_a_maintainers_own_looks_do_not_make_an_asset_used(app, make_user, make_asset):
    item = aged(make_asset("Fresh telehealth guide"), 30)
    marketer, rep = app.test_client(), app.test_client()
    login(marketer, make_user("marketer").email)
    login(rep, make_user("rep").email)

    def ignored_titles() -> list[str]:
        return [a["title"] for a in marketer.get("/api/v1/insights/ignored?days=7").get_json()["assets"]]

    marketer.get(f"/assets/{item.id}")  # where publishing lands
    assert "Fresh telehealth guide" in ignored_titles()
    rep.get(f"/assets/{item.id}")
    assert "Fresh telehealth guide" not in ignored_titles()
