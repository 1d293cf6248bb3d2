"""The assets API, with session cookies or personal bearer tokens."""
from datetime import date, timedelta

from tests.conftest import post_form


def test_api_lists_visible_assets_with_filters(client, login_as, make_asset):
    make_asset("Retail ROI", terms=["Retail"], stages=["Decision"], tags=["roi"])
    make_asset("Clinic brochure", kind="brochure", terms=["Healthcare"], stages=["Awareness"])
    make_asset("Draft", status="draft")
    make_asset("Expired", expires_on=date.today() - timedelta(days=3))
    login_as("rep")
    body = client.get("/api/v1/assets").get_json()
    assert body["total"] == 2 and {a["title"] for a in body["assets"]} == {"Retail ROI", "Clinic brochure"}
    retail = client.get("/api/v1/assets?segment=Retail&stage=Decision").get_json()
    assert [a["title"] for a in retail["assets"]] == ["Retail ROI"]
    item = retail["assets"][0]
    assert set(item) == {"id", "title", "kind", "terms", "segments", "stages", "status", "product", "tags",
                         "updated_at"}
    assert item["terms"] == {"Industry": ["Retail"]} and item["segments"] == ["Retail"]
    assert item["tags"] == ["roi"] and item["status"] == "published"
    assert client.get("/api/v1/assets?kind=brochure").get_json()["total"] == 1
    assert client.get("/api/v1/assets?segment=Atlantis").get_json()["total"] == 0
    by_dimension = client.get("/api/v1/assets?industry=retail&industry=Healthcare").get_json()
    assert {a["title"] for a in by_dimension["assets"]} == {"Retail ROI", "Clinic brochure"}  # OR within one


def test_marketer_sees_drafts_through_the_api(client, login_as, make_asset):
    make_asset("Draft", status="draft")
    login_as("marketer")
    assert client.get("/api/v1/assets").get_json()["total"] == 1


def test_personal_token_works_until_revoked(app, client, login_as, make_asset):
    make_asset("Retail ROI")
    login_as("rep")
    page = post_form(client, "/profile/tokens", {"name": "CRM sync"}).get_data(as_text=True)
    secret = page.split('id="new-token">')[1].split("<")[0]
    assert secret.startswith("brg_")
    crm = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    assert crm.get("/api/v1/assets", headers=headers).get_json()["total"] == 1
    assert crm.get("/", headers=headers).status_code == 302  # tokens open the API only
    profile = client.get("/profile").get_data(as_text=True)
    assert "CRM sync" in profile and secret not in profile
    token_id = profile.split("/profile/tokens/")[1].split("/")[0]
    post_form(client, f"/profile/tokens/{token_id}/revoke")
    revoked = crm.get("/api/v1/assets", headers=headers)
    assert revoked.status_code == 401 and revoked.get_json()["error"]


def test_api_without_credentials_answers_401_json(client):
    response = client.get("/api/v1/assets", headers={"Authorization": "Bearer brg_wrong"})
    assert response.status_code == 401 and response.is_json
