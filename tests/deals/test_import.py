"""A manager imports a CRM export: Salesforce's and HubSpot's headers are recognised, bad rows are
listed with their reason while good rows load, and importing again updates by the CRM's id."""
from __future__ import annotations

import io
import re
from datetime import date

from sqlalchemy import func, select

from app.extensions import db
from app.models import Account, Opportunity, OpportunityStageChange
from tests.conftest import csrf_token
from tests.deals.conftest import by_external_id

SALESFORCE = ",".join(["Opportunity ID", "Opportunity Name", "Account Name", "Account ID", "Stage", "Amount",
                       "Opportunity Currency", "Close Date", "Opportunity Owner", "Industry"]) + """
006A1,Acme renewal,Acme Health,001A,Proposal/Price Quote,"$12,500.00",USD,12/31/2026,Riley Park,Healthcare
006A2,Acme expansion,Acme Health,001A,Prospecting,4000,USD,1/15/2027,jordan@example.com,Healthcare
006A3,Kestrel tools,Kestrel Tools,001B,Closed Won,"9,000",EUR,11/20/2026,Riley Park,Manufacturing
006A4,Bad amount,Kestrel Tools,001B,Decision,lots,USD,31/13/2026,Nobody Known,Manufacturing
006A5,West deal,Northwind,001C,Decision,100,USD,11/20/2026,Taylor Kim,Retail
006A6,No such stage,Northwind,001C,Haggling,100,USD,11/20/2026,Riley Park,Retail
006A7,Unknown industry,Northwind,001C,Decision,100,USD,11/20/2026,Riley Park,Atlantis
"""

HUBSPOT = ",".join(["Record ID", "Deal Name", "Deal Stage", "Close Date", "Deal owner", "Amount", "Currency",
                    "Associated Company", "Associated Company IDs", "Company size"]) + """
9001,Harbor pilot,Decision maker bought-in,2026-12-15,Jordan Lee,25000,USD,Harbor Credit Union,77,Mid-Market
9002,Harbor lost,Closed Lost,2026-11-02,riley@example.com,5000,USD,Harbor Credit Union,77,Mid-Market
9003,,Decision,2026-12-01,Riley Park,1,USD,Harbor Credit Union,77,Mid-Market
9001,Harbor pilot again,Decision,2026-12-15,Jordan Lee,25000,USD,Harbor Credit Union,77,Mid-Market
"""


def upload(browser, text: str, preset: str = ""):
    """Step one: the CSV read and its columns matched; returns the page and its hidden upload token."""
    response = browser.post("/deals/import", data={
        "csrf_token": csrf_token(browser, "/deals/import"), "preset": preset,
        "file": (io.BytesIO(text.encode()), "export.csv")}, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    return page, re.search(r'name="upload" value="([0-9a-f]+)"', page)[1]


def mapping_on(page: str) -> dict[str, str]:
    """The column each field is mapped to, as the mapping step shows it selected."""
    found = {}
    for name, options in re.findall(r'<select id="map-([^"]+)" name="[^"]+">(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', options)
        found[name] = chosen[1] if chosen else ""
    return found


def confirm(browser, token: str, mapping: dict[str, str], preset: str):
    data = {"csrf_token": csrf_token(browser, "/deals/import"), "upload": token, "preset": preset, "action": "import"}
    data.update({f"map-{name}": column for name, column in mapping.items()})
    return browser.post("/deals/import", data=data)


def bad_rows(page: str) -> dict[int, str]:
    table = re.search(r'data-table="bad-rows">(.*?)</table>', page, re.S)
    cells = r"<tr><td[^>]*>(\d+)</td><td[^>]*>[^<]*</td><td[^>]*>([^<]*)</td></tr>"
    rows = re.findall(cells, table[1]) if table else []
    return {int(line): reason for line, reason in rows}


def test_salesforce_export_loads_good_rows_and_lists_bad_ones(team, client_of):
    manager = client_of(team["dana"])
    page, token = upload(manager, SALESFORCE)
    mapping = mapping_on(page)
    assert 'value="salesforce" selected' in page  # detected from the header
    assert mapping["external_id"] == "Opportunity ID" and mapping["owner"] == "Opportunity Owner"
    assert mapping["account_external_id"] == "Account ID" and mapping["currency"] == "Opportunity Currency"
    assert any(k.startswith("term:") and v == "Industry" for k, v in mapping.items())
    result = confirm(manager, token, mapping, "salesforce").get_data(as_text=True)
    assert "3 opportunities added, 0 updated; 4 rows left out" in result
    bad = bad_rows(result)
    assert set(bad) == {5, 6, 7, 8}
    assert "not a number" in bad[5] and "not someone whose deals you manage" in bad[6]
    # every problem of a row at once: the amount, the date and the owner
    assert "lots" in bad[5] and "31/13/2026" in bad[5] and "Nobody Known" in bad[5], bad[5]
    assert "Haggling" in bad[7] and "Atlantis" in bad[8]
    renewal = by_external_id("006A1")
    assert (renewal.name, renewal.account.name, renewal.account.external_id) == ("Acme renewal", "Acme Health", "001A")
    assert renewal.stage.name == "Decision"  # Salesforce's Proposal/Price Quote in the funnel
    assert renewal.amount_minor == 1_250_000 and renewal.close_date == date(2026, 12, 31)
    assert renewal.owner_id == team["riley"].id and renewal.status == "open"
    assert [t.name for t in renewal.account.terms] == ["Healthcare"]
    assert by_external_id("006A2").owner_id == team["jordan"].id
    won = by_external_id("006A3")
    assert won.status == "won" and won.currency == "EUR"
    assert won.closed_at.date() == date(2026, 11, 20)  # the CRM's close date, not the day of the import
    assert db.session.scalar(select(func.count()).select_from(Account)) == 2  # Acme once for two deals
    assert by_external_id("006A4") is None and by_external_id("006A5") is None


def test_hubspot_export_with_preset_and_duplicates_in_the_file(team, client_of):
    admin = client_of(team["admin"])
    page, token = upload(admin, HUBSPOT, preset="hubspot")
    mapping = mapping_on(page)
    assert mapping["external_id"] == "Record ID" and mapping["stage"] == "Deal Stage"
    assert mapping["account_name"] == "Associated Company"
    assert mapping["account_external_id"] == "Associated Company IDs"
    result = confirm(admin, token, mapping, "hubspot").get_data(as_text=True)
    assert "2 opportunities added, 0 updated; 2 rows left out" in result
    bad = bad_rows(result)
    assert "needs a name" in bad[4] and "line 2" in bad[5]
    pilot = by_external_id("9001")
    assert pilot.stage.name == "Decision" and pilot.owner_id == team["jordan"].id
    assert [t.name for t in pilot.account.terms] == ["Mid-Market"]
    lost = by_external_id("9002")
    assert lost.status == "lost" and lost.owner_id == team["riley"].id


def test_reimport_updates_by_external_id_and_records_the_stage_change(team, client_of):
    manager = client_of(team["dana"])
    page, token = upload(manager, SALESFORCE)
    confirm(manager, token, mapping_on(page), "salesforce")
    first = by_external_id("006A1")
    again = SALESFORCE.replace("Acme renewal,Acme Health,001A,Proposal/Price Quote",
                               "Acme renewal v2,Acme Health,001A,Closed Won")
    page, token = upload(manager, again)
    result = confirm(manager, token, mapping_on(page), "salesforce").get_data(as_text=True)
    assert "0 opportunities added, 3 updated" in result
    assert db.session.scalar(select(func.count()).select_from(Opportunity)) == 3
    renewal = by_external_id("006A1")
    assert renewal.id == first.id and renewal.name == "Acme renewal v2" and renewal.status == "won"
    moves = db.session.execute(select(OpportunityStageChange.status, OpportunityStageChange.source)
                               .where(OpportunityStageChange.opportunity_id == renewal.id)
                               .order_by(OpportunityStageChange.id)).all()
    assert [tuple(m) for m in moves] == [("open", "import"), ("won", "import")]


def test_reps_may_not_import(team, client_of):
    rep = client_of(team["riley"])
    assert rep.get("/deals/import").status_code == 403
