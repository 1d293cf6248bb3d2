"""Bulk customizing: a CSV's columns matched to the fields by name and confirmed; each PDF holds its own row."""
from __future__ import annotations

import io
import re
import zipfile

import pypdf
import pytest
from sqlalchemy import select

from app.documents import authoring
from app.extensions import db
from app.models import GeneratedDocument
from tests.conftest import login, post_form

HTML = """<h1>Lumenfold for {{ hospital_name }}</h1>
<p>Live bed capacity across {{ bed_count }} beds.</p><p>Their challenge: {{ challenge }}</p>
<p>Tier {{ tier }}. Contact: {{ rep_name }}</p>"""
FIELDS = [
    {"name": "hospital_name", "label": "Hospital", "default": "Mercy Regional", "required": True},
    {"name": "bed_count", "label": "Number of beds", "default": "420"},
    {"name": "challenge", "label": "Their challenge", "type": "long_text", "default": "Bed status on a whiteboard"},
    {"name": "tier", "type": "choice", "choices": ["Gold", "Silver"], "default": "Gold"},
    {"name": "rep_name", "label": "Your name"},
]


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join((p.extract_text() or "").split()) for p in pypdf.PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def one_pager(make_asset, make_user):
    asset = make_asset("Hospital one-pager", terms=["Healthcare"])
    authoring.save_template(asset, HTML, "", authoring.parse_fields(FIELDS), make_user("marketer"))
    return asset


@pytest.fixture
def manager(client, make_user):
    user = make_user("manager", name="Dana Brooks")
    login(client, user.email)
    return user


def upload(client, asset, text: str):
    return post_form(client, f"/assets/{asset.id}/bulk", {"accounts": (io.BytesIO(text.encode()), "accounts.csv")},
                     content_type="multipart/form-data")


def mapping_of(page: str) -> tuple[str, dict[str, str]]:
    """The waiting upload's token and each field's chosen column, as the mapping form shows them."""
    token = re.search(r'name="upload" value="([0-9a-f]+)"', page).group(1)
    chosen = {}
    for name, options in re.findall(r'<select id="map-(\w+)" name="map-\w+">(.*?)</select>', page, re.S):
        selected = re.search(r'<option value="([^"]*)" selected>', options)
        chosen[name] = selected.group(1) if selected else ""
    return token, chosen


def confirm(client, asset, token: str, mapping: dict[str, str]):
    return post_form(client, f"/assets/{asset.id}/bulk",
                     {"upload": token, **{f"map-{name}": column for name, column in mapping.items()}},
                     follow_redirects=True)


ROWS = ("Account,Bed Count,THEIR_CHALLENGE,Tier,Region\n"
        "St. Alden's Health,310,ER waits of four hours,Silver,East\n"
        "Harbor General,120,Discharges stuck until noon,,West\n"
        ",95,Nobody named this hospital,Gold,North\n"
        "Kestrel Valley Clinic,,Staffing by spreadsheet,Bronze,South\n")


def test_columns_are_matched_by_name_confirmed_and_each_pdf_holds_its_own_row(client, manager, one_pager):
    first = upload(client, one_pager, ROWS)
    page = first.get_data(as_text=True)
    assert first.status_code == 200 and "4 rows" in page
    token, mapping = mapping_of(page)
    # case, spaces and underscores do not matter; "Account" is the customer field
    assert mapping == {"hospital_name": "Account", "bed_count": "Bed Count", "challenge": "THEIR_CHALLENGE",
                       "tier": "Tier", "rep_name": ""}
    assert db.session.scalars(select(GeneratedDocument)).all() == []  # nothing is made before confirming

    done = confirm(client, one_pager, token, mapping).get_data(as_text=True)
    assert "2 documents made; 2 rows skipped" in done
    assert "Hospital is required" in done and "Tier: choose one of Gold, Silver" in done
    documents = db.session.scalars(select(GeneratedDocument).order_by(GeneratedDocument.id)).all()
    assert [d.account for d in documents] == ["St. Alden's Health", "Harbor General"]
    with client.get("/documents/zip?" + "&".join(f"ids={d.id}" for d in documents)) as archive:
        with zipfile.ZipFile(io.BytesIO(archive.data)) as zipped:
            texts = {name: pdf_text(zipped.read(name)) for name in zipped.namelist()}
    st_aldens = next(t for n, t in texts.items() if "St. Alden" in n)
    harbor = next(t for n, t in texts.items() if "Harbor" in n)
    assert "Lumenfold for St. Alden's Health" in st_aldens and "across 310 beds" in st_aldens
    assert "ER waits of four hours" in st_aldens and "Tier Silver" in st_aldens and "Dana Brooks" in st_aldens
    assert "Lumenfold for Harbor General" in harbor and "across 120 beds" in harbor
    assert "Discharges stuck until noon" in harbor and "Tier Gold" in harbor  # an empty choice takes its default
    for text in texts.values():  # the template's examples never stand in for a row's values
        assert "Mercy Regional" not in text and "420" not in text and "whiteboard" not in text


def test_the_mapping_can_be_changed_and_a_required_field_needs_a_column(client, manager, one_pager):
    token, mapping = mapping_of(upload(client, one_pager, "Town,Site,Beds\nAcme Health,Boston,80\n")
                                .get_data(as_text=True))
    assert mapping["hospital_name"] == "" and mapping["bed_count"] == ""
    unmapped = confirm(client, one_pager, token, mapping)
    assert unmapped.status_code == 400 and "Choose a column for Hospital" in unmapped.get_data(as_text=True)
    made = confirm(client, one_pager, token, {**mapping, "hospital_name": "Site", "bed_count": "Beds"})
    assert "1 document made." in made.get_data(as_text=True)
    [document] = db.session.scalars(select(GeneratedDocument)).all()
    with client.get(f"/documents/{document.id}/download") as pdf:
        assert "Lumenfold for Boston" in pdf_text(pdf.data) and "across 80 beds" in pdf_text(pdf.data)


def test_a_waiting_csv_belongs_to_its_manager(app, client, manager, one_pager, make_user):
    token, mapping = mapping_of(upload(client, one_pager, ROWS).get_data(as_text=True))
    other = app.test_client()
    login(other, make_user("manager").email)
    stolen = confirm(other, one_pager, token, mapping)
    assert stolen.status_code == 400 and "no longer waiting" in stolen.get_data(as_text=True)
    forged = confirm(client, one_pager, "../../secret_key", mapping)
    assert forged.status_code == 400
    assert db.session.scalars(select(GeneratedDocument)).all() == []


@pytest.mark.parametrize("text, message", [
    ("", "header row"), ("Account,account\nA,B\n", "same name"), ("Account\n", "no accounts"),
])
def test_unusable_csvs_are_refused_with_a_reason(client, manager, one_pager, text, message):
    response = upload(client, one_pager, text)
    assert response.status_code == 400 and message in response.get_data(as_text=True)


def test_only_managers_run_bulk_and_never_on_internal_assets(client, login_as, one_pager, make_asset, make_user):
    login_as("rep")
    assert client.get(f"/assets/{one_pager.id}/bulk").status_code == 403
    post_form(client, "/logout")
    login_as("manager")
    internal = make_asset("Internal price memo", kind="battlecard")
    authoring.save_template(internal, "<p>{{ customer }}</p>", "", authoring.parse_fields([{"name": "customer"}]),
                            make_user("marketer"))
    page = client.get(f"/assets/{internal.id}/bulk").get_data(as_text=True)
    assert "internal only" in page and "Read the CSV" not in page


def test_a_crm_export_s_column_names_find_their_fields(client, manager, one_pager):
    """"Company" is the customer and "Number" the start of "Number of beds"; "Contact" alone would
    fit no field, and a short column ("No") is never guessed."""
    page = upload(client, one_pager, "Company,Number,No,Contact\nMercy Ridge,88,1,Jo\n").get_data(as_text=True)
    _, mapping = mapping_of(page)
    assert mapping == {"hospital_name": "Company", "bed_count": "Number", "challenge": "", "tier": "", "rep_name": ""}


def test_the_sample_csv_has_the_templates_columns_and_matches_itself(client, manager, one_pager):
    """A manager starts from a sample instead of copying column names out of the help text."""
    page = client.get(f"/assets/{one_pager.id}/bulk").get_data(as_text=True)
    assert f'href="/assets/{one_pager.id}/bulk/sample.csv"' in page
    sample = client.get(f"/assets/{one_pager.id}/bulk/sample.csv")
    assert sample.status_code == 200 and sample.mimetype == "text/csv"
    header, example = sample.get_data(as_text=True).splitlines()
    assert header == "hospital_name,bed_count,challenge,tier"  # the rep's own name is filled, not asked
    assert example == "Mercy Regional,420,Bed status on a whiteboard,Gold"
    _, chosen = mapping_of(upload(client, one_pager, sample.get_data(as_text=True)).get_data(as_text=True))
    assert {k: v for k, v in chosen.items() if v} == {n: n for n in header.split(",")}  # every column matched
