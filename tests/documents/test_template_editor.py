"""The template editor as a marketer uses it: fields as rows (add, order, remove: no JSON), a live
preview, and a starter template in the look of the asset's own file."""
from __future__ import annotations

import io
import re

import pypdf
import weasyprint

from app.documents import authoring
from app.extensions import db
from tests.conftest import post_form
from tests.documents.test_customize import field_rows

HTML = "<h1>Plan for {{ customer }}</h1><p>Tier {{ tier }}</p>"
FIELDS = [{"name": "customer", "label": "Customer", "default": "Acme Health", "required": True},
          {"name": "tier", "label": "Tier", "type": "choice", "choices": ["Gold", "Silver"], "default": "Gold"}]


def rows_on(page: str) -> list[str]:
    """The placeholders of the editor's rows, in order."""
    return re.findall(r'name="fields-\d+-name"[^>]*value="([^"]*)"', page)


def test_rows_are_added_moved_and_removed_without_saving_and_saved_in_that_order(client, login_as, make_asset):
    asset = make_asset("Proposal one-pager")
    login_as("marketer")
    url = f"/manage/{asset.id}/template"
    assert rows_on(client.get(url).get_data(as_text=True)) == ["customer_name"]  # an example to start from
    base = {"html": HTML, "css": "", **field_rows(FIELDS)}

    added = post_form(client, url, {**base, "add_field": "1"})
    assert added.status_code == 200 and len(re.findall(r'name="fields-\d+-type"', added.get_data(as_text=True))) == 3
    moved = post_form(client, url, {**base, "row_action": "down-0"}).get_data(as_text=True)
    assert rows_on(moved) == ["tier", "customer"]
    removed = post_form(client, url, {**base, "row_action": "remove-1"}).get_data(as_text=True)
    assert rows_on(removed) == ["customer"]
    db.session.refresh(asset)
    assert asset.template is None  # rearranging saves nothing

    reordered = {"html": HTML, "css": "", "save": "1", **field_rows(list(reversed(FIELDS)))}
    saved = post_form(client, url, reordered, follow_redirects=True).get_data(as_text=True)
    assert "Template saved as version 1" in saved
    db.session.refresh(asset)
    assert [f["name"] for f in asset.template.fields] == ["tier", "customer"]
    assert asset.template.fields[0]["choices"] == ["Gold", "Silver"] and asset.template.fields[1]["required"]
    assert rows_on(client.get(url).get_data(as_text=True)) == ["tier", "customer"]


def test_a_bad_row_is_refused_with_its_reason_and_nothing_is_saved(client, login_as, make_asset):
    asset = make_asset()
    login_as("marketer")
    bad = [{"name": "tier", "label": "Tier", "type": "choice", "default": "Gold"}]  # a choice with no choices
    answer = post_form(client, f"/manage/{asset.id}/template", {"html": HTML, "save": "1", **field_rows(bad)})
    assert answer.status_code == 422 and "a choice needs a list of choices" in answer.get_data(as_text=True)
    db.session.refresh(asset)
    assert asset.template is None


def test_the_live_preview_renders_the_draft_or_names_its_error(client, login_as, make_asset):
    asset = make_asset()
    login_as("marketer")
    url = f"/manage/{asset.id}/template/preview"
    good = post_form(client, url, {"html": HTML, "css": "", **field_rows(FIELDS)})
    assert good.status_code == 200 and good.get_json()["image"].startswith("data:image/png;base64,")
    broken = post_form(client, url, {"html": "<p>{{ nope }}</p>", "css": "", **field_rows(FIELDS)})
    assert broken.status_code == 422 and "nope" in broken.get_json()["error"]
    db.session.refresh(asset)
    assert asset.template is None


def test_start_from_the_asset_s_look_takes_its_accent_colour_and_font(client, login_as, make_asset, tmp_path):
    brochure = tmp_path / "brochure.pdf"
    weasyprint.HTML(string="""<style>body { font-family: 'DejaVu Serif'; } h1 { color: #c2410c; font-size: 40pt; }
        .band { background: #c2410c; height: 120pt; }</style><h1>Lumenfold for Hospitals</h1><div class="band"></div>
        <p>Readmissions down 18 %.</p>""").write_pdf(brochure)
    asset = make_asset("Lumenfold for Hospitals", upload=(brochure, "brochure.pdf"),
                       description="Fewer readmissions, shorter stays.")
    login_as("marketer")
    page = post_form(client, f"/manage/{asset.id}/template", {"starter": "1"}).get_data(as_text=True)
    accent = re.search(r"accent (#[0-9a-f]{6})", page)[1]
    red, green, blue = (int(accent[i:i + 2], 16) for i in (1, 3, 5))
    assert red > 150 and green < 110 and blue < 60, accent  # the brochure's orange, not Bridge's blue
    assert "DejaVu Serif" in page
    assert rows_on(page) == ["customer_name", "intro", "customer_logo", "rep_name", "rep_email"]
    html = re.search(r'<textarea[^>]*name="html"[^>]*>(.*?)</textarea>', page, re.S)[1]
    css = re.search(r'<textarea[^>]*name="css"[^>]*>(.*?)</textarea>', page, re.S)[1]
    fields = [{"name": "customer_name", "label": "Customer name", "default": "Acme Health", "required": True,
               "account": True}, {"name": "intro", "label": "Opening paragraph", "type": "long_text"},
              {"name": "customer_logo", "label": "Customer logo", "type": "image"},
              {"name": "rep_name", "label": "Your name"}, {"name": "rep_email", "label": "Your email"}]
    unescape = {"&lt;": "<", "&gt;": ">", "&#34;": '"', "&#39;": "'", "&quot;": '"', "&amp;": "&"}
    for entity, char in unescape.items():
        html, css = html.replace(entity, char), css.replace(entity, char)
    saved = post_form(client, f"/manage/{asset.id}/template",
                      {"html": html, "css": css, "save": "1", **field_rows(fields)}, follow_redirects=True)
    assert "Template saved as version 1" in saved.get_data(as_text=True)
    db.session.refresh(asset)
    assert accent in asset.template.css and "Lumenfold for Hospitals" in asset.template.html
    values = {"customer_name": "Mercy Regional", "intro": "For the CFO.", "customer_logo": "", "rep_name": "Riley",
              "rep_email": "riley@example.com"}
    printed = authoring.render_document(asset.template, values)
    text = " ".join(" ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(printed)).pages).split())
    assert "PREPARED FOR MERCY REGIONAL" in text.upper()
    assert "Lumenfold for Hospitals" in text and "For the CFO." in text
