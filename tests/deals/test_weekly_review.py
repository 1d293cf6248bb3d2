"""The weekly review PDF's deals section, read back with pypdf: deals influenced, rooms and links buyers
opened, the week's wins with their content; figures recounted here from the events this test wrote."""
from __future__ import annotations

import io
import re
from collections import defaultdict
from datetime import datetime, time, timedelta

import pypdf

from app import usage
from app.models import utcnow
from tests.conftest import login
from tests.deals.conftest import new_deal

CAPTIONS = ["Deals influenced this week: content sent in them", "Rooms and links opened by buyers this week",
            "Won this week, with the content that went into them", "Actions"]
SENT, BUYER = ("share", "customize"), ("share_open", "share_page", "share_download")


def last_week():
    monday = utcnow().date() - timedelta(days=utcnow().date().weekday() + 7)
    return "{}-W{:02d}".format(*monday.isocalendar()[:2]), datetime.combine(monday, time())


def pdf_sections(browser, label) -> dict[str, str]:
    response = browser.get(f"/insights/report.pdf?week={label}")
    assert response.status_code == 200
    pages = pypdf.PdfReader(io.BytesIO(response.data)).pages
    text = " ".join(re.sub(r"\s*Page \d+ of \d+\s*$", "", " ".join((p.extract_text() or "").split())) for p in pages)
    text = text.split(" Deals ", 1)[1] if " Deals " in text else text
    sections = {}
    for caption, following in zip(CAPTIONS, CAPTIONS[1:], strict=False):
        sections[caption] = text.split(caption, 1)[1].split(following, 1)[0]
    return sections


def build_week(team, make_asset, start):
    """Deals of Team East (Riley) and Team West (Taylor) with events in, before and after the week."""
    titles = {n: make_asset(n, terms=["Healthcare"]) for n in ("Buyer guide", "Pitch deck", "ROI model")}
    in_week = start + timedelta(days=2)
    deals = {
        "Acme expansion": new_deal(team["riley"], "E1", account="Acme Health"),
        "Birch renewal": new_deal(team["riley"], "E2", account="Birch Clinics"),
        "Cedar pilot": new_deal(team["riley"], "E3", account="Cedar Care", status="won", at=in_week),
        "West rollout": new_deal(team["taylor"], "W1", account="West Labs", status="won", at=in_week),
    }
    plan = [  # (deal, kind, asset, when)
        ("Acme expansion", "share", "Pitch deck", in_week), ("Acme expansion", "customize", "ROI model", in_week),
        ("Acme expansion", "share", "Buyer guide", start - timedelta(days=3)),  # before the week
        ("Birch renewal", "share_open", "Buyer guide", in_week), ("Birch renewal", "share_open", "Pitch deck", in_week),
        ("Birch renewal", "share_page", "Buyer guide", in_week),
        ("Birch renewal", "share_page", "Buyer guide", in_week + timedelta(minutes=1)),
        ("Birch renewal", "share_download", "Buyer guide", in_week),
        ("Birch renewal", "share_open", "Buyer guide", start + timedelta(days=8)),  # the week after
        ("Cedar pilot", "share", "Pitch deck", start - timedelta(days=20)),
        ("Cedar pilot", "share_open", "ROI model", in_week - timedelta(hours=3)),
        ("Cedar pilot", "customize", "Buyer guide", in_week + timedelta(hours=1)),  # after it was won
        ("West rollout", "share", "ROI model", in_week - timedelta(days=1)),
    ]
    usage.record([usage.event_row(kind, user=deals[deal].owner, asset=titles[asset], opportunity=deals[deal], at=at)
                  for deal, kind, asset, at in plan])
    return deals, plan


def expected(deals, plan, start, owners):
    end = start + timedelta(days=7)
    mine = {name for name, d in deals.items() if d.owner_id in owners}
    influenced, buyer, won = defaultdict(set), defaultdict(lambda: defaultdict(int)), {}
    for deal, kind, asset, at in plan:
        if deal in mine and start <= at < end and kind in SENT:
            influenced[deal].add(asset)
        if deal in mine and start <= at < end and kind in BUYER:
            buyer[deal][kind] += 1
    for name in mine:
        deal = deals[name]
        if deal.status == "won" and start <= deal.closed_at < end:
            won[name] = ({a for d, k, a, at in plan if d == name and k in SENT and at <= deal.closed_at},
                         {a for d, k, a, at in plan if d == name and k in BUYER and at <= deal.closed_at})
    return influenced, buyer, won


def test_weekly_review_has_the_weeks_deals(app, team, make_asset, client_of):
    label, start = last_week()
    deals, plan = build_week(team, make_asset, start)
    influenced, buyer, won = expected(deals, plan, start, {team["riley"].id, team["taylor"].id})
    sections = pdf_sections(client_of(team["mara"]), label)
    section = sections[CAPTIONS[0]]
    assert section.startswith(f" ({len(influenced)})")
    for deal, assets in influenced.items():
        assert deals[deal].name in section and all(title in section for title in assets)
    assert deals["Birch renewal"].name not in section, "its buyer opened things; nothing was sent in it"
    section = sections[CAPTIONS[1]]
    assert section.startswith(f" ({len(buyer)})")
    for deal, counts in buyer.items():
        figures = " ".join(str(counts[k]) for k in BUYER)
        assert f"{deals[deal].name} " in section and figures in section
    section = sections[CAPTIONS[2]]
    assert section.startswith(f" ({len(won)})")
    for deal, (sent, opened) in won.items():
        assert deals[deal].name in section
        assert all(title in section for title in sent | opened)
    assert "Buyer guide" not in section, "customized after the deal was won: not content that went into it"


def test_a_managers_weekly_review_counts_the_teams_deals(app, team, make_asset):
    label, start = last_week()
    deals, plan = build_week(team, make_asset, start)
    _, _, won = expected(deals, plan, start, {team["riley"].id, team["jordan"].id})
    manager = app.test_client()
    login(manager, team["dana"].email)
    section = pdf_sections(manager, label)[CAPTIONS[2]]
    assert section.startswith(f" ({len(won)})")
    assert deals["West rollout"].name not in section and deals["Cedar pilot"].name in section


def test_an_empty_deals_section_says_why(app, team, client_of):
    label, _ = last_week()
    sections = pdf_sections(client_of(team["mara"]), label)
    assert sections[CAPTIONS[0]].strip() == "(0) No deal this week: no asset was shared, customized or put in a kit " \
        "for a deal."
    assert sections[CAPTIONS[1]].strip() == "(0) No buyer opened a deal's room or links this week."
    assert sections[CAPTIONS[2]].strip() == "(0) No deal was won this week."


def test_the_influence_table_gets_a_landscape_page_with_all_its_columns_and_says_when_rates_show(
        app, team, make_asset, client_of):
    """A manager found its 14 columns cut off at the right edge of a portrait page, and the win rates
    blank with no word why."""
    label, start = last_week()
    build_week(team, make_asset, start)
    response = client_of(team["mara"]).get(f"/insights/report.pdf?week={label}")
    pages = pypdf.PdfReader(io.BytesIO(response.data)).pages
    [page] = [p for p in pages if "Win rate of closed deals with and without" in " ".join(p.extract_text().split())]
    assert page.mediabox.width > page.mediabox.height  # landscape
    text = " ".join(page.extract_text().split())
    assert "Win rate opened" in text and "Lost opened" in text  # the last columns are on the page
    assert "A win rate, its difference and the interval show once at least 5 closed deals had the asset" in text
    assert all(p.mediabox.width < p.mediabox.height for p in pages if p is not page and "Actions" in p.extract_text())
