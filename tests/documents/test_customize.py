"""Customizable assets: marketers' templates, reps' PDFs, and the limits that keep both safe."""
from __future__ import annotations

import io
import json
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pypdf
import pytest
from PIL import Image
from sqlalchemy import select

from app.documents import authoring
from app.extensions import db
from app.models import GeneratedDocument, UsageEvent
from tests.conftest import login, post_form

HTML = """<h1>Proposal for {{ customer }}</h1>
<p>Prepared by {{ rep_name }} ({{ rep_email }}) for {{ contact }}.</p>
{% if logo %}<img src="{{ logo }}" alt="">{% endif %}
<p style="break-before: page">Page two for {{ customer }}, tier {{ tier }}, valid until {{ valid_until }}.</p>"""
FIELDS = [
    {"name": "customer", "label": "Customer", "type": "text", "default": "Acme Health", "required": True},
    {"name": "contact", "label": "Contact", "type": "long_text", "default": "the board"},
    {"name": "tier", "label": "Tier", "type": "choice", "choices": ["Gold", "Silver"], "default": "Gold"},
    {"name": "valid_until", "label": "Valid until", "type": "date", "default": "2026-12-31"},
    {"name": "logo", "label": "Logo", "type": "image"},
    {"name": "rep_name", "label": "Your name", "type": "text"},
    {"name": "rep_email", "label": "Your email", "type": "text"},
]


def pdf_text(data: bytes) -> tuple[str, int]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return " ".join(page.extract_text() for page in reader.pages), len(reader.pages)


def save_as_marketer(client, asset, html=HTML, css="h1 { color: #3b5bdb; }", fields=FIELDS, action="save"):
    data = {"html": html, "css": css, "fields_json": json.dumps(fields), action: "1"}
    return post_form(client, f"/manage/{asset.id}/template", data, follow_redirects=True)


@pytest.fixture
def customizable(app, make_asset, make_user):
    asset = make_asset("Proposal one-pager")
    authoring.save_template(asset, HTML, "", authoring.parse_fields(FIELDS), make_user("marketer"))
    return asset


def test_marketer_makes_an_asset_customizable_with_a_preview(client, login_as, make_asset):
    asset = make_asset("Proposal one-pager")
    login_as("marketer")
    preview = save_as_marketer(client, asset, action="preview").get_data(as_text=True)
    assert 'src="data:image/png;base64,' in preview and asset.template is None
    page = save_as_marketer(client, asset).get_data(as_text=True)
    assert "Template saved as version 1" in page
    db.session.refresh(asset)
    assert asset.template.version == 1 and [f["name"] for f in asset.template.fields][0] == "customer"
    save_as_marketer(client, asset)
    db.session.refresh(asset)
    assert asset.template.version == 2


def test_rep_customizes_and_the_pdf_holds_the_customer(client, make_user, customizable):
    rep = make_user("rep", name="Riley Park", email="riley@example.com")
    login(client, rep.email)
    form = client.get(f"/assets/{customizable.id}/customize").get_data(as_text=True)
    assert 'value="Riley Park"' in form and 'value="riley@example.com"' in form  # prefilled
    response = post_form(client, f"/assets/{customizable.id}/customize",
                         {"account": "Mercy Regional", "customer": "Mercy Regional", "contact": "Dr. Rivera",
                          "tier": "Silver", "valid_until": "2027-01-31", "rep_name": "Riley Park",
                          "rep_email": "riley@example.com", "action": "create"})
    assert response.status_code == 302
    [document] = db.session.scalars(select(GeneratedDocument)).all()
    assert (document.account, document.user_id, document.template_version) == ("Mercy Regional", rep.id, 1)
    assert document.values["tier"] == "Silver"
    listing = client.get("/documents").get_data(as_text=True)
    assert "Proposal one-pager — Mercy Regional" in listing
    with client.get(f"/documents/{document.id}/download") as pdf:
        text, pages = pdf_text(pdf.data)
    assert pages == 2 == document.page_count
    assert "Proposal for Mercy Regional" in text and "tier Silver" in text and "Riley Park" in text
    [event] = db.session.scalars(select(UsageEvent).where(UsageEvent.kind == "customize")).all()
    assert event.asset_id == customizable.id and event.context["account"] == "Mercy Regional"


def test_start_from_a_previous_document(client, make_user, customizable):
    rep = make_user("rep")
    login(client, rep.email)
    post_form(client, f"/assets/{customizable.id}/customize",
              {"account": "Kestrel Tools", "customer": "Kestrel Tools", "tier": "Silver", "action": "create"})
    document = db.session.scalar(select(GeneratedDocument))
    again = client.get(f"/assets/{customizable.id}/customize?from={document.id}").get_data(as_text=True)
    assert 'value="Kestrel Tools"' in again and "<option selected>Silver</option>" in again


def test_documents_are_private_to_their_maker(client, make_user, customizable):
    first, second = make_user("rep"), make_user("rep")
    login(client, first.email)
    post_form(client, f"/assets/{customizable.id}/customize", {"account": "Acme", "action": "create"})
    document = db.session.scalar(select(GeneratedDocument))
    post_form(client, "/logout")
    login(client, second.email)
    assert client.get(f"/documents/{document.id}/download").status_code == 404
    assert "Acme" not in client.get("/documents").get_data(as_text=True)
    assert client.get("/api/v1/documents").get_json() == {"documents": []}


def test_logo_upload_is_embedded_and_bad_images_refused(client, login_as, customizable):
    login_as("rep")
    png = io.BytesIO()
    Image.new("RGB", (40, 20), "red").save(png, format="PNG")
    png.seek(0)
    ok = post_form(client, f"/assets/{customizable.id}/customize",
                   {"account": "Acme", "action": "create", "logo": (png, "logo.png")},
                   content_type="multipart/form-data")
    assert ok.status_code == 302
    document = db.session.scalar(select(GeneratedDocument))
    assert document.values["logo"].startswith("data:image/png;base64,")
    bad = post_form(client, f"/assets/{customizable.id}/customize",
                    {"account": "Acme", "action": "create", "logo": (io.BytesIO(b"%PDF-1.4 nope"), "logo.png")},
                    content_type="multipart/form-data")
    assert bad.status_code == 400 and "not a PNG or JPEG" in bad.get_data(as_text=True)
    forged = post_form(client, f"/assets/{customizable.id}/customize",
                       {"account": "Acme", "action": "create", "logo": "data:image/svg+xml;base64,PHN2Zz4="})
    assert forged.status_code == 400
    assert len(db.session.scalars(select(GeneratedDocument)).all()) == 1


def test_field_values_are_checked(client, login_as, customizable):
    login_as("rep")
    for data, message in [({"account": ""}, "which account"), ({"account": "A", "tier": "Platinum"}, "choose one of"),
                          ({"account": "A", "valid_until": "next week"}, "a date like"),
                          ({"account": "A", "customer": "x" * 201}, "at most 200"),
                          ({"account": "A", "customer": ""}, "Customer is required")]:
        response = post_form(client, f"/assets/{customizable.id}/customize", {**data, "action": "create"})
        assert response.status_code == 400 and message in response.get_data(as_text=True), data
    assert db.session.scalars(select(GeneratedDocument)).all() == []


class Recorder(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's naming)
        Recorder.hits.append(self.path)
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", "file:///etc/passwd")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"h1 { color: red }")

    def log_message(self, *args):
        pass


@pytest.fixture
def recorder():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Recorder.hits = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_nothing_outside_bridge_is_ever_fetched(client, login_as, make_asset, recorder):
    asset = make_asset("Hostile")
    login_as("marketer")
    html = f"""<link rel="stylesheet" href="{recorder}/link.css">
<img src="{recorder}/img.png"><img src="file:///etc/passwd"><img src="{{{{ customer }}}}">
<iframe src="{recorder}/frame"></iframe><object data="{recorder}/object"></object>
<img src="{recorder}/redirect"><h1>{{{{ customer }}}}</h1>"""
    css = f"""@import url("{recorder}/import.css");
@font-face {{ font-family: x; src: url("{recorder}/font.woff"); }}
body {{ background: url("file:///etc/passwd"); }} h1 {{ background-image: url("{recorder}/bg.png"); }}
p {{ width: 999999999999px; font-size: 1e30px; }}"""
    fields = [{"name": "customer", "default": f"{recorder}/value.png", "type": "text"}]
    page = save_as_marketer(client, asset, html=html, css=css, fields=fields).get_data(as_text=True)
    assert "Template saved" in page
    assert Recorder.hits == []
    document = authoring.render_document(asset.template, {"customer": "ftp://example.com/x.png"})
    text, _ = pdf_text(document)
    assert "ftp://example.com/x.png" in text and Recorder.hits == []


HOSTILE_VALUES = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', "{{ 7*7 }}",
                  "{% for x in range(10) %}x{% endfor %}", "file:///etc/passwd", "</h1><h1>Injected"]


def test_hostile_field_values_are_printed_literally(app, make_user, customizable):
    for value in HOSTILE_VALUES:
        text, _ = pdf_text(authoring.render_document(customizable.template, {
            "customer": value, "contact": "", "tier": "Gold", "valid_until": "", "logo": "",
            "rep_name": "", "rep_email": ""}))
        assert value in " ".join(text.split()), value
    assert "49" not in pdf_text(authoring.render_document(customizable.template, {
        "customer": "{{ 7*7 }}", "contact": "", "tier": "Gold", "valid_until": "", "logo": "",
        "rep_name": "", "rep_email": ""}))[0]


def test_template_errors_name_the_line(client, login_as, make_asset):
    asset = make_asset()
    login_as("marketer")
    broken = save_as_marketer(client, asset, html="<h1>Hi</h1>\n<p>\n{% if %}</p>", fields=[])
    assert broken.status_code == 400 and "Line 3" in broken.get_data(as_text=True)
    unknown = save_as_marketer(client, asset, html="<h1>{{ cutsomer }}</h1>", fields=[])
    assert unknown.status_code == 400 and "cutsomer" in unknown.get_data(as_text=True)
    sandbox = save_as_marketer(client, asset, html="{{ ''.__class__.__mro__ }}", fields=[])
    assert sandbox.status_code == 400 and "unsafe" in sandbox.get_data(as_text=True)
    bad_fields = save_as_marketer(client, asset, html="<p>x</p>", fields=[{"name": "Bad Name"}])
    assert bad_fields.status_code == 400 and "must be unique, lower case" in bad_fields.get_data(as_text=True)
    db.session.refresh(asset)
    assert asset.template is None


@pytest.mark.parametrize("app", [{"RENDER_TIMEOUT_S": 3, "RENDER_MEMORY_MB": 300}], indirect=True)
@pytest.mark.parametrize("html,reason", [
    ("{% for i in range(99999) %}{% for j in range(99999) %}{{ i * j }}{% endfor %}{% endfor %}", "longer than 3 s"),
    ("{{ 'x' * 2000000000 }}", "more memory"),
    ("{{ 'x'|center(2000000000) }}", "more memory"),
])
def test_runaway_templates_are_stopped_and_the_worker_lives_on(client, login_as, make_asset, app, html, reason):
    asset = make_asset()
    login_as("marketer")
    response = save_as_marketer(client, asset, html=html, fields=[])
    assert response.status_code == 400 and reason in response.get_data(as_text=True)
    assert save_as_marketer(client, asset, html="<h1>Fine</h1>", fields=[]).status_code == 200
    db.session.refresh(asset)
    assert asset.template.version == 1


def test_reps_cannot_edit_templates(client, login_as, customizable):
    login_as("rep")
    assert client.get(f"/manage/{customizable.id}/template").status_code == 403
    assert save_as_marketer(client, customizable).status_code == 403


def test_api_customize_returns_the_pdf_and_lists_it(client, login_as, customizable):
    login_as("rep")
    with client.post(f"/api/v1/assets/{customizable.id}/customize",
                     json={"account": "Northwind Foods", "customer": "Northwind Foods"}) as response:
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        assert "Proposal for Northwind Foods" in pdf_text(response.data)[0]
    listed = client.get("/api/v1/documents").get_json()["documents"]
    assert [(d["account"], d["pages"]) for d in listed] == [("Northwind Foods", 2)]
    bad = client.post(f"/api/v1/assets/{customizable.id}/customize", json={"account": "X", "tier": "Bronze"})
    assert bad.status_code == 422 and "choose one of" in bad.get_json()["error"]["message"]
    form_post = client.post(f"/api/v1/assets/{customizable.id}/customize", data={"account": "X"})
    assert form_post.status_code == 400


def test_pitch_kit_merges_stored_pdfs_and_summarises_the_rest(client, make_user, make_asset, sample_files):
    brochure = make_asset("Platform brochure", kind="brochure",
                          upload=(sample_files.pdf(pages=["Brochure page one", "Brochure page two"]), "brochure.pdf"))
    deck = make_asset("Executive deck", kind="slide_deck",
                      upload=(sample_files.pptx(slides=["Quarterly business review"]), "deck.pptx"))
    talk = make_asset("Pricing talk track", kind="messaging", body="Lead with **total cost**, not licence price.")
    rep = make_user("rep", name="Riley Park")
    login(client, rep.email)
    picker = client.get(f"/kits/new?ids={brochure.id}&q=deck").get_data(as_text=True)
    assert "Platform brochure" in picker and "Executive deck" in picker
    response = post_form(client, "/kits/new", {"ids": [str(brochure.id), str(deck.id), str(talk.id)],
                                               "account": "Mercy Regional", "title": "Operations in one view",
                                               "intro": "Dear Dr. Rivera,\n\nAs promised."})
    assert response.status_code == 302
    kit = db.session.scalar(select(GeneratedDocument))
    with client.get(f"/documents/{kit.id}/download") as download:
        reader = pypdf.PdfReader(io.BytesIO(download.data))
    pages = [" ".join(p.extract_text().split()) for p in reader.pages]
    # cover, letter, contents, 2 brochure pages (merged as they are), deck summary, talk track summary
    assert len(pages) == kit.page_count == 7
    assert "Operations in one view" in pages[0] and "Mercy Regional" in pages[0] and "Riley Park" in pages[0]
    assert "As promised." in pages[1]
    assert "Platform brochure 4" in pages[2] and "Executive deck (summary) 6" in pages[2]
    assert pages[3:5] == ["Brochure page one", "Brochure page two"]
    assert "Executive deck" in pages[5] and "Quarterly business review" in pages[5]
    assert "Lead with total cost" in pages[6]
    assert [item.title for item in reader.outline] == ["Contents", "Platform brochure", "Executive deck",
                                                       "Pricing talk track"]
    assert kit.values["summarised"] == [deck.id, talk.id]
    events = db.session.scalars(select(UsageEvent).where(UsageEvent.kind == "customize")).all()
    assert sorted(e.asset_id for e in events) == sorted([brochure.id, deck.id, talk.id])


def test_pitch_kit_notes_a_pdf_it_cannot_open(app, client, login_as, make_asset, sample_files):
    damaged = make_asset("Price list", upload=(sample_files.pdf(), "prices.pdf"))
    (app.config["COLLATERAL_DIR"] / damaged.current_version.stored_name).write_bytes(b"%PDF-1.7 damaged on disk")
    login_as("rep")
    assert post_form(client, "/kits/new", {"ids": [str(damaged.id)], "account": "Acme"}).status_code == 302
    kit = db.session.scalar(select(GeneratedDocument))
    with client.get(f"/documents/{kit.id}/download") as download:
        text, pages = pdf_text(download.data)
    assert pages == 3 and "could not be read and was left out" in text


def test_pitch_kit_needs_an_account_and_assets_the_rep_may_see(client, login_as, make_asset):
    draft = make_asset("Draft", status="draft")
    login_as("rep")
    assert post_form(client, "/kits/new", {"account": "Acme"}).status_code == 400
    assert post_form(client, "/kits/new", {"ids": [str(draft.id)], "account": "Acme"}).status_code == 404
    assert db.session.scalars(select(GeneratedDocument)).all() == []


def test_bulk_makes_one_pdf_per_account_and_reports_bad_rows(client, make_user, customizable):
    manager = make_user("manager")
    login(client, manager.email)
    rows = ("account,customer,tier\nAcme Health,Acme Health,Gold\nBad Row Inc,Bad Row Inc,Platinum\n"
            "Kestrel Tools,Kestrel Tools,\n")
    response = post_form(client, f"/assets/{customizable.id}/bulk",
                         {"accounts": (io.BytesIO(rows.encode()), "accounts.csv")}, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert "2 documents made; 1 rows need fixing" in page and "Tier: choose one of Gold, Silver" in page
    documents = db.session.scalars(select(GeneratedDocument).order_by(GeneratedDocument.id)).all()
    assert [d.account for d in documents] == ["Acme Health", "Kestrel Tools"]
    with client.get("/documents/zip?" + "&".join(f"ids={d.id}" for d in documents)) as archive:
        with zipfile.ZipFile(io.BytesIO(archive.data)) as zipped:
            names = sorted(zipped.namelist())
            texts = [pdf_text(zipped.read(n))[0] for n in names]
    assert len(names) == 2 and "Proposal for Acme Health" in texts[0] and "Proposal for Kestrel Tools" in texts[1]
    no_header = post_form(client, f"/assets/{customizable.id}/bulk",
                          {"accounts": (io.BytesIO(b"name\nAcme\n"), "a.csv")}, content_type="multipart/form-data")
    assert no_header.status_code == 400 and "account" in no_header.get_data(as_text=True)


def test_only_managers_run_bulk(client, login_as, customizable):
    login_as("rep")
    assert client.get(f"/assets/{customizable.id}/bulk").status_code == 403
