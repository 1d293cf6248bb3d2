"""Taxonomy dimensions as facets: terms of one dimension widen a search, terms of two narrow it;
the home and coverage grids cross a chosen dimension with stage."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.library import taxonomy
from app.models import UsageEvent


@pytest.fixture
def sized(make_asset):
    """Industry × Company size: a mid-market hospital, a large hospital, a mid-market retailer."""
    taxonomy.ensure_dimension("Company size", ["Mid-Market", "Enterprise"])
    return {
        "mid_hospital": make_asset("Hospital ROI for mid-size systems", terms=["Healthcare", "Mid-Market"],
                                   stages=["Decision"], body="roi"),
        "big_hospital": make_asset("Hospital ROI for health networks", terms=["Healthcare", "Enterprise"],
                                   stages=["Decision"], body="roi"),
        "mid_store": make_asset("Store ROI for regional chains", terms=["Retail", "Mid-Market"],
                                stages=["Awareness"], body="roi"),
    }


def ids(name: str) -> str:
    return str(next(t.id for t in taxonomy.terms() if t.name == name))


def test_terms_of_two_dimensions_narrow_and_of_one_dimension_widen(client, login_as, sized):
    rep = login_as("rep")
    both = client.get(f"/api/v1/search?q=roi&term={ids('Healthcare')}&term={ids('Mid-Market')}").get_json()
    assert [r["title"] for r in both["results"]] == ["Hospital ROI for mid-size systems"]
    # each dimension's counts apply the other dimension's choice
    assert both["facets"]["industry"] == {"Healthcare": 1, "Retail": 1}
    assert both["facets"]["company_size"] == {"Mid-Market": 1, "Enterprise": 1}
    either = client.get(f"/api/v1/search?q=roi&term={ids('Healthcare')}&term={ids('Retail')}").get_json()
    assert either["total"] == 3
    by_name = client.get("/api/v1/search?q=roi&industry=healthcare&company_size=Mid-Market").get_json()
    assert [r["title"] for r in by_name["results"]] == ["Hospital ROI for mid-size systems"]
    page = client.get(f"/search?q=roi&term={ids('Healthcare')}&term={ids('Mid-Market')}").get_data(as_text=True)
    assert "<legend>Industry</legend>" in page and "<legend>Company size</legend>" in page
    assert f'name="term" value="{ids("Mid-Market")}" checked' in page
    event = db.session.scalars(select(UsageEvent).where(UsageEvent.kind == "search", UsageEvent.user_id == rep.id)
                               .order_by(UsageEvent.id)).first()
    assert event.context["filters"] == {"Industry": ["Healthcare"], "Company size": ["Mid-Market"]}


def test_an_unknown_term_matches_nothing_and_never_errors(client, login_as, sized):
    login_as("rep")
    for query in ("term=99999", "term=-3", "industry=Atlantis", "term=abc", "company_size=0"):
        response = client.get(f"/api/v1/search?q=roi&{query}")
        assert response.status_code == 200
    assert client.get("/api/v1/search?q=roi&industry=Atlantis").get_json()["total"] == 0
    assert client.get("/api/v1/search?q=roi&term=99999").get_json()["total"] == 0
    assert client.get("/search?q=roi&term=99999&dimension=zz").status_code == 200


def test_home_and_coverage_grids_cross_the_chosen_dimension_with_stage(client, login_as, sized):
    login_as("marketer")
    home = client.get("/").get_data(as_text=True)
    assert "Browse by industry and funnel stage" in home
    size = next(d for d in taxonomy.dimensions() if d.name == "Company size")
    by_size = client.get(f"/?dimension={size.id}").get_data(as_text=True)
    assert "Browse by company size and funnel stage" in by_size
    assert 'aria-label="1 assets for Mid-Market, Decision"' in by_size
    assert f'href="/search?term={ids("Mid-Market")}&amp;stage=' in by_size
    coverage = client.get(f"/insights/coverage?dimension={size.id}").get_data(as_text=True)
    assert "Company size \\ Stage" in coverage and "Mid-Market × Decision: 1 assets" in coverage
    cells = client.get(f"/api/v1/insights/coverage?dimension={size.id}").get_json()
    assert cells["dimension"] == "Company size" and cells["terms"] == ["Mid-Market", "Enterprise"]
    narrowed = client.get(f"/api/v1/insights/coverage?dimension={size.id}&term={ids('Healthcare')}").get_json()
    assert {(c["term"], c["stage"]): c["assets"] for c in narrowed["cells"] if c["assets"]} == {
        ("Mid-Market", "Decision"): 1, ("Enterprise", "Decision"): 1}
