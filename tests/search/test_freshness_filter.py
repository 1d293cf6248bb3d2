"""Search filtered by freshness: a rep can ask for fresh content only, or an owner for what needs a
look (needs review, expiring, flagged); the other facets' counts follow the choice."""
from datetime import timedelta

import pytest
from sqlalchemy import update

from app.database import transaction
from app.extensions import db
from app.library import flags, freshness
from app.models import Asset, UsageEvent, utcnow
from tests.conftest import login


@pytest.fixture
def shelf(make_asset, make_user):
    """Four roi assets: fresh, overdue for review, expiring in 10 days, and fresh but flagged wrong."""
    made = {
        "fresh": make_asset("Fresh roi one-pager", terms=["Retail"], body="roi"),
        "stale": make_asset("Stale roi one-pager", terms=["Healthcare"], body="roi"),
        "expiring": make_asset("Expiring roi promo", terms=["Retail"], body="roi",
                               expires_on=utcnow().date() + timedelta(days=10)),
        "flagged": make_asset("Flagged roi sheet", terms=["Retail"], body="roi"),
    }
    with transaction():
        db.session.execute(update(Asset).where(Asset.id == made["stale"].id)
                           .values(verified_at=utcnow() - timedelta(days=200), updated_at=Asset.updated_at))
    flags.raise_flag(make_user("rep"), made["flagged"], "wrong", "Old prices")
    return made


def titles(client, url):
    body = client.get(url).get_json()
    return sorted(r["title"] for r in body["results"]), body


@pytest.mark.parametrize("choice, expected", [
    ("fresh", ["Fresh roi one-pager"]),
    ("needs_review", ["Stale roi one-pager"]),
    ("expiring", ["Expiring roi promo"]),
    ("flagged", ["Flagged roi sheet"]),
])
def test_rep_filters_search_by_each_freshness_state(client, make_user, shelf, choice, expected):
    login(client, make_user("rep").email)
    found, body = titles(client, f"/api/v1/search?q=roi&freshness={choice}")
    assert found == expected and body["total"] == len(expected)


def test_freshness_choices_widen_each_other_and_narrow_the_other_facets(client, make_user, shelf):
    login(client, make_user("rep").email)
    found, body = titles(client, "/api/v1/search?q=roi&freshness=needs_review&freshness=flagged")
    assert found == ["Flagged roi sheet", "Stale roi one-pager"]
    assert body["facets"]["industry"] == {"Healthcare": 1, "Retail": 1}
    found, _ = titles(client, "/api/v1/search?q=roi&freshness=needs_review&industry=Retail")
    assert found == []
    # an unknown state is ignored, as an unknown sort is
    assert titles(client, "/api/v1/search?q=roi&freshness=sparkling")[1]["total"] == 4


def test_search_page_offers_the_filter_and_keeps_the_choice(client, make_user, shelf):
    login(client, make_user("rep").email)
    page = client.get("/search?q=roi&freshness=expiring").get_data(as_text=True)
    assert 'name="freshness" value="expiring" checked' in page
    assert 'name="freshness" value="fresh" data-autosubmit' in page
    assert "1 result for" in page and "Expiring roi promo" in page and "Fresh roi one-pager" not in page
    assert "Filters (1 chosen)" in page
    event = db.session.query(UsageEvent).filter_by(kind="search").order_by(UsageEvent.id.desc()).first()
    assert event.context["filters"] == {"Freshness": ["Expiring or expired"]}


def test_browsing_without_words_filters_too(client, make_user, shelf):
    login(client, make_user("rep").email)
    assert titles(client, "/api/v1/search?freshness=flagged")[0] == ["Flagged roi sheet"]


def test_assets_in_judges_the_given_day(shelf):
    later = utcnow().date() + timedelta(days=400)
    assert freshness.assets_in(["fresh"], later) == frozenset()
    assert freshness.assets_in(["needs_review"], later) >= {shelf["fresh"].id, shelf["stale"].id}
