"""Browser journeys: Debian's Chromium, driven by Playwright, through a live Bridge.

Each journey saves its screenshots under test-output/<test name>/ (kept after the run, ignored by
git), and the main pages are checked at a phone's width for horizontal scrolling.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from app.documents import authoring
from tests.deals.conftest import new_deal
from tests.journeys import FAST_LOG, PHONE, no_horizontal_scroll, pdf_text

from .conftest import PASSWORD

pytestmark = pytest.mark.parametrize("app", [FAST_LOG], indirect=True)

def test_rep_finds_uses_customizes_and_shares_an_asset(journey, make_user, make_asset, sample_files):
    rep = make_user("rep", name="Riley Park")
    one_pager = make_asset("Hospital ROI one-pager", terms=["Healthcare"], stages=["Decision"], tags=["roi"],
                           upload=(sample_files.pdf(pages=["Readmission ROI for hospitals", "Page two"]), "roi.pdf"))
    make_asset("Retail ROI brochure", terms=["Retail"], tags=["roi"])
    authoring.save_template(one_pager, "<h1>ROI for {{ customer }}</h1><p>Prepared by {{ rep_name }}</p>", "",
                                authoring.parse_fields([{"name": "customer", "label": "Customer",
                                                             "default": "Your hospital"},
                                                            {"name": "rep_name", "label": "Your name"}]),
                                one_pager.owner)

    page = journey.login(rep.email)
    page.goto("/search")
    page.locator("#q").fill("roi")
    page.locator("#q").press("Enter")
    expect(page.locator(".results .result")).to_have_count(2)
    page.get_by_label(re.compile(r"^\s*Healthcare")).check()  # the facet submits the form by itself
    expect(page.locator(".results .result")).to_have_count(1)
    expect(page.locator(".results")).to_contain_text("Hospital ROI one-pager")
    journey.shot(page, "search-with-facet")
    assert "csrf_token" not in page.url and "next=" not in page.url  # filters carry only the search
    # the first result's own button (a form of its own, not nested in the search form) adds to the kit
    page.locator(".results .result").first.get_by_role("button", name="Add to pitch kit").click()
    expect(page.locator(".flash-success")).to_contain_text("Hospital ROI one-pager")
    expect(page.get_by_label("Pitch kit: 1 item", exact=True)).to_be_visible()

    page.get_by_role("link", name="Hospital ROI one-pager").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hospital ROI one-pager")
    related = page.locator("section.related")  # fetched after the page is shown
    expect(related.get_by_role("heading", name="More like this")).to_be_visible()
    expect(related).to_contain_text("Retail ROI brochure")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile(r"^Download PDF")).click()
    assert "Readmission ROI" in pdf_text(download.value.path())[0]

    page.get_by_label("4 stars", exact=True).check()
    page.get_by_label("Where did it help or fall flat?").fill("Opened the CFO call with it.")
    page.get_by_role("button", name="Save rating").click()
    expect(page.locator(".flash-success")).to_contain_text("Thanks")
    expect(page.locator(".stats").first).to_contain_text("★ 4.0 from 1 rating")
    journey.shot(page, "rated")

    page.get_by_role("link", name="Customize for a customer").click()
    page.get_by_label(re.compile(r"^Customer")).fill("Mercy Regional Hospital")
    page.get_by_role("button", name="Create PDF").click()
    expect(page.locator(".flash-success")).to_contain_text("is ready")
    journey.shot(page, "my-documents")
    with page.expect_download() as made:
        page.get_by_role("link", name="Download").first.click()
    text, _ = pdf_text(made.value.path())
    assert "ROI for Mercy Regional Hospital" in text and "Riley Park" in text

    page.goto(f"/assets/{one_pager.id}")
    page.get_by_role("link", name="Share with a prospect").click()
    page.get_by_label("Recipient email").fill("cfo@mercy.example")
    page.get_by_role("button", name="Create link").click()
    share_url = page.locator("#share-url").input_value()
    assert re.search(r"/s/[\w-]{40,}$", share_url)
    journey.shot(page, "share-link")

    prospect = journey.page()  # a fresh browser: no session, no cookies
    prospect.goto(share_url)
    expect(prospect.get_by_role("heading", level=1)).to_have_text("Hospital ROI one-pager")
    expect(prospect.locator(".viewer-page img")).to_have_count(2)
    prospect.locator(".viewer-page img").first.wait_for()
    journey.shot(prospect, "prospect-view")
    prospect.close()  # leaving the page reports the time spent on it

    page.goto("/shares")
    row = page.locator("tbody tr").first
    expect(row).to_contain_text("opened")
    expect(row.locator("td").nth(3)).to_have_text("1")
    expect(page.get_by_role("link", name="Notifications: 1 unread")).to_be_visible()
    journey.shot(page, "my-shares")

    phone = journey.login(rep.email, viewport=PHONE)
    for url in ("/", "/search?q=roi", f"/assets/{one_pager.id}", "/documents", "/shares", "/collections"):
        phone.goto(url)
        assert no_horizontal_scroll(phone), url
    journey.shot(phone, "phone-asset-list")


def test_marketer_publishes_and_sees_use_gaps_and_exports(journey, make_user, make_asset, sample_files):
    marketer = make_user("marketer", team="Marketing")
    rep = make_user("rep")
    make_asset("Retail pricing sheet", terms=["Retail"], stages=["Decision"])

    page = journey.login(marketer.email)
    page.goto("/manage/new")
    page.get_by_label("Title").fill("Telehealth buyer guide")
    page.get_by_label("Kind").select_option(label="Brochure")
    page.get_by_label("Status").select_option("published")
    page.get_by_label("Healthcare").check()
    page.get_by_label("Awareness").check()
    page.get_by_label("File").set_input_files(str(sample_files.pdf(pages=["Telehealth for rural clinics"])))
    journey.shot(page, "new-asset-form")
    page.get_by_role("button", name="Create asset").click()
    expect(page.locator(".flash-success")).to_contain_text("Telehealth buyer guide")

    reps_browser = journey.login(rep.email)
    reps_browser.goto("/search?q=telehealth")
    expect(reps_browser.locator(".results")).to_contain_text("Telehealth buyer guide")
    reps_browser.goto("/search?q=blockchain+ledger")
    expect(reps_browser.locator(".empty-state")).to_contain_text("Nothing matches")
    journey.shot(reps_browser, "rep-zero-results")

    page.goto("/insights/ignored")
    expect(page.locator("main")).to_contain_text("Telehealth buyer guide")
    journey.shot(page, "ignored")
    page.goto("/insights/coverage")
    cell = page.locator("td[title^='Healthcare × Awareness']")
    expect(cell).to_contain_text("1 asset")
    journey.shot(page, "coverage")
    page.goto("/insights/gaps")
    expect(page.locator("main")).to_contain_text("blockchain ledger")
    journey.shot(page, "content-gaps")
    with page.expect_download() as export:
        page.get_by_role("link", name="CSV").first.click()
    csv_text = Path(export.value.path()).read_text()
    assert "blockchain ledger" in csv_text

    phone = journey.login(marketer.email, viewport=PHONE)
    for url in ("/manage/", "/insights/", "/insights/coverage", "/insights/gaps"):
        phone.goto(url)
        assert no_horizontal_scroll(phone), url


def test_manager_builds_a_pitch_kit_and_sees_team_adoption(journey, make_user, make_asset, sample_files):
    manager = make_user("manager", name="Dana Brooks")
    make_user("rep", name="Sam Active")
    make_asset("Platform brochure", upload=(sample_files.pdf(pages=["Platform one", "Platform two"]), "platform.pdf"))
    make_asset("Security whitepaper", upload=(sample_files.pdf(pages=["Security at rest"]), "sec.pdf"))
    make_asset("Pricing talk track", kind="messaging", body="Lead with **total cost**.")
    deal = new_deal(manager, "NW-1", account="Northwind Health")

    page = journey.login(manager.email)
    page.goto("/kits/new")
    page.get_by_label("Find assets").fill("platform")
    page.get_by_role("button", name="Search", exact=True).click()
    page.get_by_role("button", name="Add").first.click()
    page.get_by_label("Find assets").fill("security")
    page.get_by_label("Find assets").press("Enter")  # Enter searches; it never removes a part
    page.get_by_role("button", name="Add").first.click()
    expect(page.locator("#kit .kit-item")).to_have_count(2)
    expect(page.get_by_role("link", name="Pitch kit: 2 items")).to_be_visible()
    page.get_by_label("Deal").select_option(str(deal.id))
    expect(page.get_by_label("Account (customer)")).to_have_value("Northwind Health")  # filled from the deal
    page.get_by_label("Cover title").fill("Operations in one view")
    journey.shot(page, "kit-form")
    page.get_by_role("button", name="Build the kit").click()
    expect(page.locator(".flash-success")).to_contain_text("pages")
    with page.expect_download() as made:
        page.get_by_role("link", name="Download").first.click()
    text, pages = pdf_text(made.value.path())
    assert pages == 5  # cover, contents, 2 + 1 pages
    assert "Operations in one view" in text and "Northwind Health" in text and "Security at rest" in text

    page.goto("/insights/adoption")
    expect(page.locator("main")).to_contain_text("Sam Active")
    journey.shot(page, "team-adoption")


def test_admin_creates_a_user_and_deactivates_another(journey, make_user):
    admin = make_user("admin", team=None)
    leaving = make_user("rep", name="Leaving Rep")

    page = journey.login(admin.email)
    page.goto("/admin/users")
    page.get_by_label("Name").fill("New Hire")
    page.get_by_label("Email").fill("new.hire@example.com")
    page.get_by_label("Role").select_option("rep")
    page.get_by_label("Password").fill("a-long-enough-password")
    page.get_by_role("button", name="Add user").click()
    expect(page.locator(".flash-success")).to_contain_text("New Hire can now log in")
    journey.shot(page, "user-created")

    page.get_by_role("link", name="Leaving Rep").click()
    page.get_by_label("Active").uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash-success")).to_contain_text("Leaving Rep was updated")

    attempt = journey.page()
    attempt.goto("/login")
    attempt.get_by_label("Email").fill(leaving.email)
    attempt.get_by_label("Password").fill(PASSWORD)
    attempt.get_by_role("button", name="Log in").click()
    expect(attempt.locator(".flash-error")).to_contain_text("deactivated")
    journey.shot(attempt, "deactivated-refused")
    journey.login("new.hire@example.com", "a-long-enough-password")
