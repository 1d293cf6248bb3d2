"""The opportunities API: a CRM upserts by its own id with a bearer token, reads deals back, and gets 422
with a JSON body naming the field for a bad value."""
from __future__ import annotations

import pytest

from app.accounts import service as accounts
from tests.deals.conftest import by_external_id, new_deal


@pytest.fixture
def bearer(app, team):
    def make(user):
        return {"Authorization": f"Bearer {accounts.issue_api_token(user, 'CRM')}"}
    return make


def test_manager_upserts_an_opportunity_and_stage_changes_are_recorded(client, team, bearer):
    headers = bearer(team["dana"])
    body = {"name": "Acme renewal", "account_name": "Acme Health", "account_id": "001A",
            "terms": {"Industry": ["Healthcare"], "Company size": ["Enterprise"]}, "stage": "Consideration",
            "amount": 12500.5, "currency": "usd", "close_date": "2026-12-31", "owner_email": "riley@example.com"}
    created = client.put("/api/v1/opportunities/006A1", json=body, headers=headers)
    assert created.status_code == 201, created.get_json()
    answer = created.get_json()
    assert answer["amount"] == "12500.50" and answer["currency"] == "USD" and answer["stage"] == "Consideration"
    assert answer["account"] == {"name": "Acme Health", "external_id": "001A",
                                 "terms": {"Industry": ["Healthcare"], "Company size": ["Enterprise"]}}
    assert answer["owner"] == {"email": "riley@example.com", "name": "Riley Park"} and answer["status"] == "open"
    moved = client.put("/api/v1/opportunities/006A1", json={"stage": "Decision"}, headers=headers)
    assert moved.status_code == 200 and moved.get_json()["stage"] == "Decision"
    won = client.put("/api/v1/opportunities/006A1", json={"status": "won", "closed_at": "2026-11-30T16:00:00Z"},
                     headers=headers).get_json()
    assert won["status"] == "won" and won["closed_at"] == "2026-11-30T16:00:00Z" and won["name"] == "Acme renewal"
    assert [(h["stage"], h["status"], h["source"]) for h in won["history"]] == [
        ("Consideration", "open", "api"), ("Decision", "open", "api"), ("Decision", "won", "api")]
    assert won["history"][-1]["at"] == "2026-11-30T16:00:00Z"
    assert by_external_id("006A1").amount_minor == 1_250_050


@pytest.mark.parametrize("body,field", [
    ({"name": "x", "account_name": "A", "stage": "Haggling"}, "stage"),
    ({"name": "x", "account_name": "A", "amount": -5}, "amount"),
    ({"name": "x", "account_name": "A", "amount": "lots"}, "amount"),
    ({"name": "x", "account_name": "A", "currency": "dollars"}, "currency"),
    ({"name": "x", "account_name": "A", "close_date": "31/12/2026"}, "close_date"),
    ({"name": "x", "account_name": "A", "status": "maybe"}, "status"),
    ({"name": "x", "account_name": "A", "terms": {"Industry": ["Atlantis"]}}, "terms"),
    ({"name": "x", "account_name": "A", "owner_email": "nobody@example.com"}, "owner_email"),
    ({"name": "x", "account_name": "A", "owner_email": "taylor@example.com"}, "owner"),
    ({"account_name": "A"}, "name"),
    ({"name": "x"}, "account_name"),
    ({"name": "x", "account_name": "A", "colour": "red"}, "colour"),
    ({"name": 5, "account_name": "A"}, "name"),
])
def test_bad_input_is_422_with_a_json_body_naming_the_field(client, team, bearer, body, field):
    response = client.put("/api/v1/opportunities/X-1", json=body, headers=bearer(team["dana"]))
    assert response.status_code == 422, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == "invalid_parameter" and error["field"] == field and error["message"]
    assert by_external_id("X-1") is None


def test_not_json_is_400_and_a_bad_id_422(client, team, bearer):
    headers = bearer(team["dana"])
    assert client.put("/api/v1/opportunities/X-1", data="name=x", headers=headers).status_code == 400
    bad = client.put("/api/v1/opportunities/has space", json={"name": "x", "account_name": "A"}, headers=headers)
    assert bad.status_code == 422 and bad.get_json()["error"]["field"] == "external_id"


def test_rep_upserts_own_deals_only_and_lists_them(client, team, bearer):
    theirs = new_deal(team["jordan"], "J-1")
    rep = bearer(team["riley"])
    mine = client.put("/api/v1/opportunities/R-1", json={"name": "Mine", "account_name": "Acme Health"}, headers=rep)
    assert mine.status_code == 201 and mine.get_json()["owner"]["email"] == "riley@example.com"
    assert client.put("/api/v1/opportunities/J-1", json={"stage": "Decision"}, headers=rep).status_code == 404
    assert client.get("/api/v1/opportunities/J-1", headers=rep).status_code == 404
    listed = client.get("/api/v1/opportunities", headers=rep).get_json()
    assert listed["total"] == 1 and [o["external_id"] for o in listed["opportunities"]] == ["R-1"]
    manager = client.get("/api/v1/opportunities?status=open", headers=bearer(team["dana"])).get_json()
    assert {o["external_id"] for o in manager["opportunities"]} == {"R-1", "J-1"}
    assert client.get("/api/v1/opportunities?status=maybe", headers=rep).status_code == 422
    assert by_external_id("J-1").stage_id == theirs.stage_id


def test_marketers_read_but_do_not_write(client, team, bearer):
    new_deal(team["jordan"], "J-1")
    headers = bearer(team["mara"])
    assert client.get("/api/v1/opportunities/J-1", headers=headers).status_code == 200
    assert client.put("/api/v1/opportunities/J-1", json={"stage": "Decision"}, headers=headers).status_code == 403


def test_shares_through_the_api_name_the_reps_open_deal(client, team, bearer, make_asset):
    from sqlalchemy import select

    from app.extensions import db
    from app.models import UsageEvent

    deal = new_deal(team["riley"], "R-9", account="Acme Health")
    new_deal(team["jordan"], "J-9")
    brochure = make_asset("Clinic brochure")
    rep = bearer(team["riley"])
    made = client.post("/api/v1/shares", json={"asset_id": brochure.id, "opportunity": "R-9"}, headers=rep)
    assert made.status_code == 201, made.get_json()
    share = db.session.scalar(select(UsageEvent).where(UsageEvent.kind == "share"))
    assert share.opportunity_id == deal.id and share.context["account"] == "Acme Health"
    for wrong in ("J-9", "nope", 7):
        refused = client.post("/api/v1/shares", json={"asset_id": brochure.id, "opportunity": wrong}, headers=rep)
        assert refused.status_code == 422 and refused.get_json()["error"]["field"] == "opportunity"
