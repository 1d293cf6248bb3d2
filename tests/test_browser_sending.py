"""Sending, in a real browser (Chromium): copy a link or a talk track, preview a customized
document, make one PDF per CSV row, then the whole path with a deck: kit, link, a prospect paging
through on a phone, and the link ending when the deck is archived. Screenshots: test-output/."""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from app.documents import authoring
from app.extensions import db
from app.library import assets as library
from app.models import GeneratedDocument, UsageEvent
from app.sharing import links
from tests.journeys import FAST_LOG, PHONE, no_horizontal_scroll
from tests.pdfs import internal_addresses, page_texts

CLIPBOARD = {"permissions": ["clipboard-read", "clipboard-write"]}


def count(kind: str) -> int:
    return db.session.scalar(select(func.count()).select_from(UsageEvent).where(UsageEvent.kind == kind))


def documents() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(GeneratedDocument))


@pytest.mark.parametrize("app", [FAST_LOG], indirect=True)
def test_copy_puts_exactly_the_link_and_the_talk_track_on_the_clipboard(app, journey, make_user, make_asset,
                                                                        sample_files):
    rep = make_user("rep")
    brochure = make_asset("Platform brochure", upload=(sample_files.pdf(), "platform.pdf"))
    talk = make_asset("Discovery questions", kind="messaging",
                      body="Ask **what breaks first**.\n\n- Bed status\n- Staffing\n\nThen:\n\n1. Listen\n2. Summarise")
    link = links.create_link(rep, asset=brochure)

    page = journey.login(rep.email, **CLIPBOARD)
    page.goto(f"/shares/{link.id}")
    page.get_by_role("button", name="Copy link").click()
    expect(page.get_by_role("button", name="Copied ✓")).to_be_visible()
    url = page.locator("#share-url").input_value()
    assert url.endswith(f"/s/{link.token}")
    assert page.evaluate("navigator.clipboard.readText()") == url
    journey.shot(page, "link-copied")

    page.goto(f"/assets/{talk.id}")
    page.get_by_role("button", name="Copy text").click()
    expect(page.get_by_role("button", name="Copied ✓")).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    shown = page.locator("#messaging-body").inner_text().strip()
    assert "Ask what breaks first." in copied and "**" not in copied
    # The list markers a reader sees are on the clipboard too (innerText alone drops them).
    assert "• Bed status" in copied and "• Staffing" in copied and "1. Listen" in copied and "2. Summarise" in copied
    assert copied.replace("• ", "").replace("1. ", "").replace("2. ", "") == shown
    assert page.locator("#messaging-body li span").count() == 0  # the markers were only for the copy
    app.extensions["usage_log"].flush()
    assert count("copy") == 1


@pytest.mark.parametrize("app", [FAST_LOG], indirect=True)
def test_where_the_clipboard_is_refused_the_link_is_selected_with_a_hint(journey, make_user, make_asset,
                                                                         sample_files):
    rep = make_user("rep")
    link = links.create_link(rep, asset=make_asset("Brochure", upload=(sample_files.pdf(), "b.pdf")))
    page = journey.login(rep.email)
    page.add_init_script("navigator.clipboard.writeText = () => "
                         "Promise.reject(new DOMException('Write permission denied.', 'NotAllowedError'));")
    page.goto(f"/shares/{link.id}")
    page.get_by_role("button", name="Copy link").click()
    expect(page.locator(".copy-note")).to_contain_text("Press Ctrl+C")
    expect(page.get_by_role("button", name="Copy link")).to_be_visible()  # never "Copied ✓"
    selected = page.evaluate("(() => { const i = document.getElementById('share-url');"
                             " return i.value.substring(i.selectionStart, i.selectionEnd); })()")
    assert selected == page.locator("#share-url").input_value() and selected.endswith(link.token)
    journey.shot(page, "copy-fallback")


TWO_PAGES = ('<h1>Proposal for {{ customer }}</h1><p>{{ summary }}</p>'
             '<p style="break-before: page">Page two for {{ customer }}</p>')


@pytest.mark.parametrize("app", [FAST_LOG], indirect=True)
@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_preview_shows_the_pages_and_makes_no_document_and_counts_nothing(app, journey, make_user, make_asset,
                                                                          javascript):
    rep = make_user("rep", name="Riley Park")
    proposal = make_asset("Proposal")
    authoring.save_template(proposal, TWO_PAGES, "", authoring.parse_fields([
        {"name": "customer", "label": "Customer", "default": "Acme Health", "required": True},
        {"name": "summary", "label": "Summary", "type": "long_text", "default": "Two sentences."}]),
        make_user("marketer"))
    page = journey.login(rep.email, java_script_enabled=javascript)
    page.goto(f"/assets/{proposal.id}/customize")
    customer = page.get_by_label(re.compile(r"^Customer"))
    assert customer.input_value() == "" and customer.get_attribute("placeholder") == "Acme Health"
    customer.fill("Mercy Regional")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator(".customize-preview img")).to_have_count(2)
    expect(customer).to_have_value("Mercy Regional")
    journey.shot(page, "preview")
    app.extensions["usage_log"].flush()
    assert documents() == 0 and count("customize") == 0
    page.get_by_role("button", name="Create PDF").click()
    expect(page.locator(".flash-success")).to_contain_text("Proposal — Mercy Regional")
    app.extensions["usage_log"].flush()
    assert documents() == 1 and count("customize") == 1


BULK_FIELDS = [{"name": "hospital_name", "label": "Hospital", "default": "Mercy Regional", "required": True},
               {"name": "bed_count", "label": "Number of beds", "default": "420"}]


@pytest.mark.parametrize("app", [FAST_LOG], indirect=True)
def test_bulk_makes_each_row_s_own_pdf(journey, make_user, make_asset, tmp_path):
    manager = make_user("manager")
    one_pager = make_asset("Hospital one-pager")
    authoring.save_template(one_pager, "<h1>For {{ hospital_name }}</h1><p>{{ bed_count }} beds</p>", "",
                            authoring.parse_fields(BULK_FIELDS), make_user("marketer"))
    rows = {"St. Alden's Health": "310", "Harbor General": "120", "Kestrel Valley Clinic": "75"}
    accounts_csv = tmp_path / "accounts.csv"
    accounts_csv.write_text("Account,Bed count\n" + "".join(f'"{a}",{b}\n' for a, b in rows.items()) + ",90\n")
    page = journey.login(manager.email)
    page.goto(f"/assets/{one_pager.id}/bulk")
    page.get_by_label("Accounts CSV").set_input_files(str(accounts_csv))
    page.get_by_role("button", name="Read the CSV").click()
    expect(page.get_by_label("Hospital")).to_have_value("Account")
    expect(page.get_by_label("Number of beds")).to_have_value("Bed count")
    journey.shot(page, "mapping")
    page.get_by_role("button", name="Make 4 PDFs").click()
    expect(page.locator(".flash", has_text="made")).to_contain_text("3 documents made; 1 row skipped")
    expect(page.locator("main")).to_contain_text("Skipped: Hospital is required.")
    journey.shot(page, "results")
    with page.expect_download() as zipped:
        page.get_by_role("link", name="Download 3 PDFs as ZIP").click()
    with zipfile.ZipFile(zipped.value.path()) as archive:
        texts = {name: " ".join(page_texts(archive.read(name))) for name in archive.namelist()}
    assert len(texts) == 3
    for account, beds in rows.items():
        [text] = [t for name, t in texts.items() if account.replace("'", "-") in name or account in name]
        assert f"For {account}" in text and f"{beds} beds" in text
        assert "Mercy Regional" not in text and "420" not in text


@pytest.mark.parametrize("app", [{**FAST_LOG, "OFFICE_PREVIEWS": True}], indirect=True)
def test_a_deck_goes_in_a_kit_and_a_link_a_prospect_pages_through_on_a_phone_until_it_is_archived(
        app, journey, make_user, make_asset, sample_files):
    rep = make_user("rep", name="Riley Park", email="riley@lumenfold.example")
    slides = ["Healthcare executive briefing", "Bed capacity in one view", "Staffing matched to demand"]
    deck = make_asset("Healthcare Executive Briefing Deck", kind="slide_deck", terms=["Healthcare"],
                      tags=["deck"], upload=(sample_files.pptx("briefing.pptx", slides=slides), "briefing.pptx"))
    make_asset("Pricing and Discount Guidance", kind="messaging", body="Discount bands.", tags=["deck"])

    page = journey.login(rep.email)
    page.goto("/search?q=deck")
    results = page.locator(".results .result")
    expect(results.filter(has_text="Pricing and Discount Guidance")).to_contain_text("Internal only")
    page.get_by_role("link", name="Healthcare Executive Briefing Deck").click()
    expect(page.get_by_role("link", name="View 3 slides")).to_be_visible()
    page.get_by_role("button", name="Add to pitch kit").click()
    expect(page.locator(".flash-success")).to_contain_text("Added “Healthcare Executive Briefing Deck”")
    page.get_by_role("link", name="Pitch kit: 1 item").click()
    page.get_by_label("Account (customer)").fill("Mercy Regional")
    page.get_by_label("Letter (optional)").fill("Dear Dr. Rivera,\n\nThe briefing we discussed.")
    page.get_by_role("button", name="Build the kit").click()
    expect(page.locator(".flash-success")).to_contain_text("6 pages")  # cover, letter, contents, 3 slides
    with page.expect_download() as made:
        page.get_by_role("link", name="Download").first.click()
    kit = Path(made.value.path()).read_bytes()
    texts = page_texts(kit)
    for number, title in enumerate(slides, start=3):
        assert title in texts[number]  # the deck's own slides, not a summary of its text
    assert internal_addresses(kit, journey.base.split("//")[1]) == []

    page.goto(f"/assets/{deck.id}")
    page.get_by_role("link", name="Share with a prospect").click()
    page.get_by_label("Recipient email").fill("rivera@mercy.example")
    page.get_by_label("Personal message").fill("As promised, the briefing.\nSlide 3 has the staffing figures.")
    page.get_by_label("Book a meeting").check()
    page.get_by_label("Meeting booking link").fill("https://cal.example.com/riley")
    page.get_by_role("button", name="Create link").click()
    share_url = page.locator("#share-url").input_value()
    journey.shot(page, "link-made")

    prospect = journey.page(PHONE)  # a phone, no session, no cookies
    prospect.goto(share_url)
    expect(prospect.locator(".share-message")).to_contain_text("Slide 3 has the staffing figures.")
    expect(prospect.get_by_role("link", name="Book a meeting with Riley Park")).to_have_attribute(
        "href", "https://cal.example.com/riley")
    expect(prospect.locator(".viewer-count")).to_have_text("Page 1 of 3")
    prospect.locator(".viewer-page img").first.wait_for()
    assert no_horizontal_scroll(prospect)
    journey.shot(prospect, "prospect-phone")
    prospect.wait_for_timeout(1500)  # reading: a page counts once it was on screen for a second
    prospect.get_by_role("link", name="Next page").click()
    expect(prospect.locator(".viewer-count")).to_have_text("Page 2 of 3")
    prospect.wait_for_timeout(1500)
    prospect.keyboard.press("ArrowRight")
    expect(prospect.locator(".viewer-count")).to_have_text("Page 3 of 3")
    prospect.locator("#page-3 img").wait_for()
    journey.shot(prospect, "prospect-last-slide")
    prospect.wait_for_timeout(1500)
    prospect.goto("about:blank")  # leaving reports the time on each page (a beacon)

    def pages_read() -> set[int]:
        app.extensions["usage_log"].flush()
        db.session.expire_all()
        read = db.session.scalars(select(UsageEvent).where(UsageEvent.kind == "share_page"))
        return {e.context["page"] for e in read}

    for _ in range(100):  # the beacon arrives a moment after the page is left: a bound, not a timing
        if pages_read() == {1, 2, 3}:
            break
        prospect.wait_for_timeout(100)
    assert pages_read() == {1, 2, 3}

    library.set_status(db.session.get(type(deck), deck.id), "archived")
    late = journey.page(PHONE)
    response = late.goto(share_url)
    assert response.status == 410
    expect(late.locator("main")).to_contain_text("This link is no longer available")
    expect(late.locator("main")).to_contain_text("Riley Park")
    expect(late.get_by_role("link", name="riley@lumenfold.example")).to_be_visible()
    assert late.locator("a[href='/'], a[href*='/login']").count() == 0
    journey.shot(late, "gone")
    page.goto("/shares")
    expect(page.locator("tbody tr").first).to_contain_text("“Healthcare Executive Briefing Deck” was archived.")
    journey.shot(page, "my-shares")
