"""The issue's malformed parameters, each answered 404 or 422 with a message, never 500; and the
API's one error shape."""
from __future__ import annotations

import pytest

from app.documents import authoring
from tests.conftest import post_form

HUGE = "9" * 25


def test_ids_beyond_64_bits_are_not_found(client, login_as, make_asset):
    item = make_asset()
    login_as("marketer")
    for url in (f"/assets/{HUGE}", f"/assets/{2**63}", f"/manage/{HUGE}/edit", f"/assets/{'9' * 5000}",
                f"/assets/{item.id}/versions/{HUGE}/download"):
        assert client.get(url).status_code == 404, url[:60]
    assert client.get(f"/assets/{2**31}").status_code == 404  # beyond PostgreSQL's INTEGER
    assert client.get(f"/assets/{2**31 - 1}").status_code == 404  # the largest id: looked up, absent
    assert client.get(f"/assets/{item.id}").status_code == 200


def test_query_numbers_out_of_range_are_refused_naming_the_parameter(client, login_as):
    login_as("rep")
    for url, field in ((f"/documents?new={HUGE}", "new"), (f"/documents/zip?ids=1&ids={HUGE}", "ids"),
                       (f"/share/new?asset={HUGE}", "asset"), (f"/assets/1/customize?from={HUGE}", "from")):
        response = client.get(url)
        assert response.status_code in (404, 422), url
        if response.status_code == 422:
            assert f"{field} must be" in response.get_data(as_text=True), url
    page = client.get(f"/api/v1/assets?page={HUGE}")
    assert page.status_code == 422
    assert page.get_json() == {"error": {"status": 422, "code": "invalid_parameter", "field": "page",
                                         "message": "page must be a whole number."}}
    assert client.get("/api/v1/assets?page=-3").get_json()["error"]["field"] == "page"
    assert client.get("/api/v1/assets?page=2").status_code == 200


def test_insights_filters_beyond_64_bits_fall_back_like_other_malformed_filters(client, login_as):
    login_as("marketer")
    for query in (f"segment={HUGE}", f"stage={HUGE}", f"team={HUGE}", "segment=abc"):
        page = client.get(f"/insights/?{query}")
        assert page.status_code == 200 and "unknown segment" not in page.get_data(as_text=True), query


def test_nul_characters_are_refused(client, login_as):
    login_as("rep")
    assert client.get("/s/abc%00def").status_code == 404
    refused = client.get("/search?q=roi%00")
    assert refused.status_code == 422 and "q must not contain NUL characters" in refused.get_data(as_text=True)
    assert client.post("/api/v1/shares", json={"account": "Acme\u0000"}).get_json()["error"]["field"] == "body"


def test_a_template_nested_too_deeply_is_refused_with_a_message(client, login_as, make_asset):
    item = make_asset()
    login_as("marketer")
    nested = "{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}"
    answer = post_form(client, f"/manage/{item.id}/template", {"html": nested, "css": "",
                                                               "save": "1"})
    assert answer.status_code == 422 and "nests brackets, tags or blocks too deeply" in answer.get_data(as_text=True)
    with pytest.raises(authoring.TemplateError):
        authoring.check_syntax("{% if a %}" * 3000 + "x" + "{% endif %}" * 3000)


@pytest.mark.parametrize("app", [{"PROPAGATE_EXCEPTIONS": False}], indirect=True)
def test_every_api_error_has_the_same_shape(app, client, login_as, monkeypatch):
    from app.api import views as api

    def shape(response, status):
        body = response.get_json()
        assert response.status_code == status and response.mimetype == "application/json", response.data
        assert set(body) == {"error"} and set(body["error"]) == {"status", "code", "message", "field"}
        assert body["error"]["status"] == status and body["error"]["message"]
        return body["error"]

    assert shape(client.get("/api/v1/assets"), 401)["code"] == "unauthorized"
    login_as("rep")
    assert shape(client.get("/api/v1/insights/coverage"), 403)["code"] == "forbidden"
    assert shape(client.get("/api/v1/nowhere"), 404)["code"] == "not_found"
    assert shape(client.get("/api/v1/assets/12345/stats"), 404)["code"] == "not_found"
    not_allowed = client.delete("/api/v1/assets")
    assert shape(not_allowed, 405)["code"] == "method_not_allowed" and "GET" in not_allowed.headers["Allow"]
    assert shape(client.post("/api/v1/shares", data="x"), 400)["code"] == "bad_request"
    assert shape(client.post("/api/v1/shares", json={"asset_id": "x"}), 422)["field"] == "asset_id"
    monkeypatch.setattr(api.generate, "documents_of", lambda user: 1 / 0)
    assert shape(client.get("/api/v1/documents"), 500)["code"] == "server_error"


def test_an_insights_period_not_used_says_so_and_shows_the_default(client, login_as):
    login_as("marketer")
    for query, message in (("from=2026-12-01&to=2026-11-01", "From is after To"),
                           ("from=2026-13-01&to=2026-11-01", "From and To must both be dates"),
                           ("from=2020-01-01&to=2026-11-01", "At most"),
                           ("days=abc", "Period must be 1 to"), ("days=0", "Period must be 1 to"),
                           ("days=" + "9" * 5000, "Period must be 1 to"), ("days=%C2%B2", "Period must be 1 to")):
        page = client.get(f"/insights/?{query}")
        text = page.get_data(as_text=True)
        assert page.status_code == 200 and message in text and "showing the last 30 days instead" in text, query
        assert "(30 days, UTC)" in text, query
    assert "instead" not in client.get("/insights/?from=2026-11-01&to=2026-11-20").get_data(as_text=True)
    assert "instead" not in client.get("/insights/?days=90").get_data(as_text=True)
