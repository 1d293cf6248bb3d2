"""Every main page at a phone's width (390 × 844), in Chromium, as each role sees it: axe-core
(injected by Playwright; installed from npm by .ci/test-deps) finds no serious or critical
violation; one h1; no sideways scrolling; the navigation folds behind a Menu button; what the page
is for comes before its filters (search results, insights figures, the asset's Download)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from app.library import flags, ratings
from app.notifications.links import unsubscribe_token
from app.sharing import links
from tests.journeys import FAST_LOG, PHONE, no_horizontal_scroll

pytestmark = pytest.mark.parametrize("app", [FAST_LOG], indirect=True)

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")


def axe_violations(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page as shown, one line each."""
    page.evaluate(AXE.read_text())  # through the DevTools protocol: the page's CSP stays as it is
    found = page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']})).violations
        .map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))""")
    return [f"{v['id']} ({v['impact']}): {', '.join(v['nodes'])}" for v in found if v["impact"] in SERIOUS]


def check(page: Page, url: str) -> list[str]:
    """What is wrong with `url` at phone width (an empty list when nothing is)."""
    response = page.goto(url)
    problems = [] if response and response.ok else [f"status {response.status if response else 'none'}"]
    headings = page.locator("h1").count()
    if headings != 1:
        problems.append(f"{headings} h1 elements")
    if not no_horizontal_scroll(page):
        problems.append("scrolls sideways")
    nav = page.locator("nav.mainnav")
    if nav.count() and nav.is_visible():
        problems.append("the main navigation is open before Menu is pressed")
    return [f"{url}: {p}" for p in problems + axe_violations(page)]


@pytest.fixture
def world(make_user, make_asset, sample_files):
    """A library with something on every page: a PDF with pages, ratings, a flag, a share."""
    people = {role: make_user(role, name=f"{role.title()} Person") for role in ("rep", "marketer", "manager", "admin")}
    pdf = make_asset("Hospital ROI one-pager", terms=["Healthcare"], stages=["Decision"], tags=["roi"],
                     upload=(sample_files.pdf(pages=["Readmission ROI for hospitals", "Page two"]), "roi.pdf"))
    other = make_asset("Retail ROI brochure", terms=["Retail"], tags=["roi"], body="ROI for **stores**.")
    ratings.rate(people["rep"], pdf, 4, "Opened the CFO call with it.", "Mercy", "won")
    ratings.rate(people["manager"], other, 2, "Pricing slide is out of date.", "", "")
    flags.raise_flag(people["rep"], other, "outdated", "Pricing changed in October")
    links.create_link(people["rep"], asset=pdf, recipient_email="cfo@mercy.example")
    return people, pdf, other


def test_every_main_page_passes_axe_at_phone_width_for_each_role(journey, world):
    people, pdf, _ = world
    pages = {
        "rep": ["/", "/search?q=roi", "/search", f"/assets/{pdf.id}", f"/assets/{pdf.id}/view", "/documents",
                "/kits/new", "/collections", "/shares", "/notifications",
                "/notifications/preferences", "/profile", "/browse"],
        "marketer": ["/manage/", "/manage/review/", "/manage/flags", "/manage/synonyms/", "/manage/new",
                     "/insights/", "/insights/usage", "/insights/ignored", "/insights/coverage",
                     "/insights/adoption", "/insights/ratings", "/insights/gaps", "/insights/influence",
                     "/insights/finding", "/insights/shares"],
        "manager": ["/insights/adoption", "/documents"],
        "admin": ["/admin/users", "/admin/taxonomy"],
    }
    problems = []
    for role, urls in pages.items():
        page = journey.login(people[role].email, viewport=PHONE)
        for url in urls:
            problems += check(page, url)
    anonymous = journey.page(viewport=PHONE)
    problems += check(anonymous, "/login")
    problems += check(anonymous, f"/unsubscribe/{unsubscribe_token(people['rep'].id, 'new_content')}")
    assert problems == [], "\n".join(problems)


def test_phone_shows_the_work_first_and_folds_navigation_and_filters(journey, world):
    people, pdf, _ = world
    page = journey.login(people["rep"].email, viewport=PHONE)

    page.goto("/")
    menu = page.get_by_role("button", name="Menu")
    expect(page.get_by_role("link", name="My shares")).to_be_hidden()
    journey.shot(page, "home")
    assert page.locator("header.topbar").bounding_box()["height"] <= 130
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    page.get_by_role("link", name="My shares").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("shares")
    journey.shot(page, "menu")

    page.goto("/search?q=roi")
    first = page.locator(".results .result").first
    expect(first).to_be_in_viewport()  # results before the filters
    expect(page.get_by_text("Filters", exact=False).first).to_be_visible()

    page.goto(f"/assets/{pdf.id}")
    download = page.get_by_role("link", name=re.compile(r"^Download PDF"))
    journey.shot(page, "asset-first-screen")
    assert download.bounding_box()["y"] + download.bounding_box()["height"] <= PHONE["height"]
    stars = page.get_by_role("radio", name="4 stars", exact=True, include_hidden=True)
    expect(stars).to_have_count(1)  # star options read as words, not "★★★★"
    journey.shot(page, "asset")

    marketer = journey.login(people["marketer"].email, viewport=PHONE)
    marketer.goto("/insights/")
    expect(marketer.locator(".kpis")).to_be_in_viewport()  # the figures before the filter form
    filters = marketer.locator("details.filters")
    expect(filters.locator("select[name=days]")).to_be_hidden()
    filters.locator("summary").click()
    expect(filters.locator("select[name=days]")).to_be_visible()
    journey.shot(marketer, "insights")

    assert marketer.request.get("/favicon.ico").ok
