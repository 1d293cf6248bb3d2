"""Customizable assets: marketers' templates, reps' PDFs, and the limits that keep both safe."""
from __future__ import annotations

import io
import threading
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


def field_rows(fields: list[dict]) -> dict:
    """Declared fields as the template editor's rows post them."""
    data = {}
    for n, f in enumerate(fields):
        data |= {f"fields-{n}-name": f.get("name", ""), f"fields-{n}-label": f.get("label", ""),
                 f"fields-{n}-type": f.get("type", "text"), f"fields-{n}-default": f.get("default", ""),
                 f"fields-{n}-choices": ", ".join(f.get("choices", []))}
        data |= {f"fields-{n}-{flag}": "y" for flag in ("required", "account") if f.get(flag)}
    return data


def save_as_marketer(client, asset, html=HTML, css="h1 { color: #3b5bdb; }", fields=FIELDS, action="save"):
    data = {"html": html, "css": css, action: "1", **field_rows(fields)}
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
    assert 'value="Riley Park"' in form and 'value="riley@example.com"' in form  # the rep's own details
    assert 'id="account"' not in form  # the customer is typed once, in the template's customer field
    response = post_form(client, f"/assets/{customizable.id}/customize",
                         {"customer": "Mercy Regional", "contact": "Dr. Rivera",
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
    post_form(client, f"/assets/{customizable.id}/customize", {"customer": "Acme", "action": "create"})
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
                   {"customer": "Acme", "action": "create", "logo": (png, "logo.png")},
                   content_type="multipart/form-data")
    assert ok.status_code == 302
    document = db.session.scalar(select(GeneratedDocument))
    assert document.values["logo"].startswith("data:image/png;base64,")
    bad = post_form(client, f"/assets/{customizable.id}/customize",
                    {"customer": "Acme", "action": "create", "logo": (io.BytesIO(b"%PDF-1.4 nope"), "logo.png")},
                    content_type="multipart/form-data")
    assert bad.status_code == 400 and "not a PNG or JPEG" in bad.get_data(as_text=True)
    forged = post_form(client, f"/assets/{customizable.id}/customize",
                       {"customer": "Acme", "action": "create", "logo": "data:image/svg+xml;base64,PHN2Zz4="})
    assert forged.status_code == 400
    assert len(db.session.scalars(select(GeneratedDocument)).all()) == 1


def test_field_values_are_checked(client, login_as, customizable):
    login_as("rep")
    for data, message in [({"customer": ""}, "Customer is required"),
                          ({"customer": "A", "tier": "Platinum"}, "choose one of"),
                          ({"customer": "A", "valid_until": "next week"}, "a date like"),
                          ({"customer": "x" * 201}, "at most 200")]:
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
    assert broken.status_code == 422 and "Line 3" in broken.get_data(as_text=True)
    unknown = save_as_marketer(client, asset, html="<h1>{{ cutsomer }}</h1>", fields=[])
    assert unknown.status_code == 422 and "cutsomer" in unknown.get_data(as_text=True)
    sandbox = save_as_marketer(client, asset, html="{{ ''.__class__.__mro__ }}", fields=[])
    assert sandbox.status_code == 422 and "unsafe" in sandbox.get_data(as_text=True)
    bad_fields = save_as_marketer(client, asset, html="<p>x</p>", fields=[{"name": "Bad Name"}])
    assert bad_fields.status_code == 422 and "must be unique, lower case" in bad_fields.get_data(as_text=True)
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
    assert response.status_code == 422 and reason in response.get_data(as_text=True)
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
    missing = client.post(f"/api/v1/assets/{customizable.id}/customize", json={"tier": "Gold"})
    assert missing.status_code == 422 and "Customer is required" in missing.get_json()["error"]["message"]
    form_post = client.post(f"/api/v1/assets/{customizable.id}/customize", data={"account": "X"})
    assert form_post.status_code == 400


def test_only_managers_run_bulk(client, login_as, customizable):
    login_as("rep")
    assert client.get(f"/assets/{customizable.id}/bulk").status_code == 403


def events_of(kind: str) -> list[UsageEvent]:
    return list(db.session.scalars(select(UsageEvent).where(UsageEvent.kind == kind)))


def test_examples_are_placeholders_and_never_reach_the_pdf(client, login_as, customizable):
    login_as("rep")
    form = client.get(f"/assets/{customizable.id}/customize").get_data(as_text=True)
    assert 'placeholder="Acme Health"' in form and 'value="Acme Health"' not in form
    assert 'placeholder="the board"' in form and ">the board</textarea>" not in form
    assert "<option selected>Gold</option>" in form  # a choice's default is the option chosen at first
    response = post_form(client, f"/assets/{customizable.id}/customize", {"customer": "Kestrel Tools",
                                                                           "action": "create"})
    assert response.status_code == 302
    document = db.session.scalar(select(GeneratedDocument))
    with client.get(f"/documents/{document.id}/download") as pdf:
        text, _ = pdf_text(pdf.data)
    assert "Proposal for Kestrel Tools" in text and "tier Gold" in text
    assert "the board" not in text and "2026-12-31" not in text  # examples stay examples


def test_required_fields_left_empty_are_named_all_at_once(client, login_as, make_asset, make_user):
    asset = make_asset("Letter")
    fields = [{"name": "customer_name", "label": "Customer", "required": True, "default": "Acme"},
              {"name": "contact_name", "label": "Contact name", "required": True, "default": "Dr. Rivera"},
              {"name": "signed", "label": "Signed by", "required": True}]
    authoring.save_template(asset, "<p>{{ customer_name }} {{ contact_name }} {{ signed }}</p>", "",
                            authoring.parse_fields(fields), make_user("marketer"))
    login_as("rep")
    response = post_form(client, f"/assets/{asset.id}/customize", {"customer_name": "Harbor CU",
                                                                   "contact_name": "", "signed": "",
                                                                   "action": "create"})
    assert response.status_code == 400
    assert "Contact name and Signed by are required." in response.get_data(as_text=True)
    assert db.session.scalars(select(GeneratedDocument)).all() == []


def test_the_account_is_the_template_s_customer_field_unless_it_names_another(client, login_as, make_asset,
                                                                             make_user):
    marketer = make_user("marketer")
    by_rule = make_asset("Hospital one-pager")
    authoring.save_template(by_rule, "<h1>{{ hospital }}</h1>", "", authoring.parse_fields([
        {"name": "contact", "label": "Contact"},
        {"name": "hospital", "label": "Hospital", "required": True}]), marketer)
    declared = make_asset("Partner letter")
    authoring.save_template(declared, "<h1>{{ partner }} for {{ customer }}</h1>", "", authoring.parse_fields([
        {"name": "customer", "label": "End customer"},
        {"name": "partner", "label": "Partner", "account": True}]), marketer)
    login_as("rep")
    post_form(client, f"/assets/{by_rule.id}/customize", {"hospital": "St. Alden's", "contact": "Dr. Ng",
                                                           "action": "create"})
    post_form(client, f"/assets/{declared.id}/customize", {"partner": "Northwind Partners", "customer": "Acme",
                                                            "action": "create"})
    accounts = [d.account for d in db.session.scalars(select(GeneratedDocument).order_by(GeneratedDocument.id))]
    assert accounts == ["St. Alden's", "Northwind Partners"]
    no_text_field = make_asset("Tier sheet")
    authoring.save_template(no_text_field, "<p>{{ tier }}</p>", "", authoring.parse_fields([
        {"name": "tier", "type": "choice", "choices": ["Gold", "Silver"]}]), marketer)
    form = client.get(f"/assets/{no_text_field.id}/customize").get_data(as_text=True)
    assert 'id="account"' in form  # no field can name the customer: the account is asked apart
    assert post_form(client, f"/assets/{no_text_field.id}/customize",
                     {"tier": "Gold", "action": "create"}).status_code == 400
    with pytest.raises(authoring.TemplateError, match="only one field"):
        authoring.parse_fields([{"name": "a", "account": True}, {"name": "b", "account": True}])


@pytest.mark.parametrize("route", ["customize/preview", "customize"])
def test_preview_shows_the_pages_and_makes_no_document_and_no_event(client, login_as, customizable, route):
    """Without JavaScript the Preview button posts to its own address (formaction); a browser that
    ignores formaction still sends action=preview to the form's address."""
    login_as("rep")
    response = post_form(client, f"/assets/{customizable.id}/{route}",
                         {"customer": "Mercy Regional", "tier": "Silver", "action": "preview"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.count('src="data:image/png;base64,') == 2  # both pages, inline
    assert 'value="Mercy Regional"' in page  # the form keeps what was typed
    assert db.session.scalars(select(GeneratedDocument)).all() == []
    assert events_of("customize") == []
    empty = post_form(client, f"/assets/{customizable.id}/{route}", {"customer": "", "action": "preview"})
    assert empty.status_code == 400 and "Customer is required" in empty.get_data(as_text=True)


def test_internal_assets_cannot_be_customized_for_a_customer(client, login_as, make_asset, make_user):
    internal = make_asset("Discount approval memo", kind="messaging")
    assert internal.audience == "internal"
    authoring.save_template(internal, "<p>{{ customer }}</p>", "",
                            authoring.parse_fields([{"name": "customer", "required": True}]), make_user("marketer"))
    login_as("rep")
    page = client.get(f"/assets/{internal.id}/customize").get_data(as_text=True)
    assert "internal only: it cannot be customized into a customer document" in page and "Create PDF" not in page
    assert "Customize for a customer" not in client.get(f"/assets/{internal.id}").get_data(as_text=True)
    refused = post_form(client, f"/assets/{internal.id}/customize", {"customer": "Acme", "action": "create"})
    assert refused.status_code == 400 and "internal only" in refused.get_data(as_text=True)
    api = client.post(f"/api/v1/assets/{internal.id}/customize", json={"customer": "Acme"})
    assert api.status_code == 422 and "internal only" in api.get_json()["error"]["message"]
    assert db.session.scalars(select(GeneratedDocument)).all() == []


def test_a_value_ending_with_a_full_stop_is_not_followed_by_another(client, make_user, customizable):
    """"… for {{ contact }}." with "Alden & Sons, Ltd." reads "Ltd.", in the PDF and its file name."""
    login(client, make_user("rep", name="Riley Park").email)
    post_form(client, f"/assets/{customizable.id}/customize",
              {"customer": "Alden & Sons, Ltd.", "contact": "Alden & Sons, Ltd.", "tier": "Gold",
               "valid_until": "2027-01-31", "rep_name": "Riley Park", "rep_email": "", "action": "create"})
    [document] = db.session.scalars(select(GeneratedDocument)).all()
    with client.get(f"/documents/{document.id}/download") as pdf:
        text, _ = pdf_text(pdf.data)
        disposition = pdf.headers["Content-Disposition"]
    assert "for Alden & Sons, Ltd." in text and "Ltd.." not in text
    assert disposition.endswith("Alden%20&%20Sons%2C%20Ltd.pdf")


def test_numbers_are_numbers_and_a_word_too_long_for_the_page_is_refused(client, login_as, make_asset, make_user):
    """The ROI summary's figures (issue found by a new rep: "lots" and "-4" reached the PDF, and a
    49-character value pushed the other figures off the page)."""
    asset = make_asset("ROI summary")
    authoring.save_template(asset, "<table><tr><th>Hours</th><td>{{ hours }}</td></tr>"
                                   "<tr><th>Value</th><td>{{ value }}</td></tr></table><p>{{ customer }}</p>", "",
                            authoring.parse_fields([{"name": "customer", "label": "Customer", "required": True},
                                                    {"name": "hours", "label": "Annual hours saved", "type": "number",
                                                     "required": True},
                                                    {"name": "value", "label": "Three-year value"}]),
                            make_user("marketer"))
    login_as("rep")
    form = client.get(f"/assets/{asset.id}/customize").get_data(as_text=True)
    assert 'inputmode="decimal"' in form
    for data, message in [({"hours": "lots"}, "Annual hours saved: a number such as 12,400"),
                          ({"hours": "-4"}, "a number such as"),
                          ({"hours": "12,40"}, "a number such as"),
                          ({"hours": "12", "value": "x" * 49}, "is 49 characters without a space")]:
        response = post_form(client, f"/assets/{asset.id}/customize",
                             {"customer": "Mercy General", **data, "action": "create"})
        assert response.status_code == 400 and message in response.get_data(as_text=True), data
    assert db.session.scalars(select(GeneratedDocument)).all() == []
    made = post_form(client, f"/assets/{asset.id}/customize", {"customer": "Mercy General", "hours": "12,400.5",
                                                                "value": "$2.1M over three years", "action": "create"})
    assert made.status_code == 302
    document = db.session.scalar(select(GeneratedDocument))
    with client.get(f"/documents/{document.id}/download") as pdf:
        text, _ = pdf_text(pdf.data)
    assert "12,400.5" in text and "$2.1M over three years" in text and "Mercy General" in text
