"""Previews at upload: decks and Word documents converted to their pages (thumbnail, page count, the
in-app viewer); when LibreOffice is missing or fails, the upload still succeeds with a clear note."""
from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select

from app.extensions import db
from app.models import AssetVersion
from tests.conftest import csrf_token

PREVIEWS = {"OFFICE_PREVIEWS": True}


def upload(client, sample_files, path, title="Uploaded deck", kind="slide_deck"):
    data = {"csrf_token": csrf_token(client, "/manage/new"), "title": title, "kind": kind, "status": "published",
            "segments": ["1"], "stages": ["1"], **sample_files.upload(path)}
    return client.post("/manage/new", data=data, content_type="multipart/form-data")


def png_size(client, url: str) -> tuple[int, int]:
    with client.get(url) as response:
        assert response.status_code == 200 and response.mimetype == "image/png", url
        return Image.open(io.BytesIO(response.data)).size


@pytest.mark.parametrize("app", [PREVIEWS], indirect=True)
def test_a_deck_and_a_word_document_get_their_pages_at_upload(app, client, login_as, sample_files):
    login_as("marketer")
    deck = sample_files.pptx(slides=["Quarterly business review", "Next steps"])
    plan = sample_files.docx(paragraphs=["Mutual action plan"] + [f"Step {n}: owners and dates" for n in range(40)])
    for path, kind in ((deck, "slide_deck"), (plan, "datasheet")):
        assert upload(client, sample_files, path, title=path.name, kind=kind).status_code == 302
    deck_version, plan_version = db.session.scalars(select(AssetVersion).order_by(AssetVersion.id)).all()
    assert deck_version.page_count == 2 and plan_version.page_count == 2  # counted in the converted PDF
    for version in (deck_version, plan_version):
        assert version.preview_name and version.preview_note == ""
        asset_id = version.asset_id
        page = client.get(f"/assets/{asset_id}").get_data(as_text=True)
        assert f'href="/assets/{asset_id}/view"' in page
        width, height = png_size(client, f"/assets/{asset_id}/thumbnail")  # page 1, not a coloured tile
        assert width == 360 and height > 100
        viewer = client.get(f"/assets/{asset_id}/view").get_data(as_text=True)
        assert viewer.count('class="viewer-page"') == 2 and "Page <span data-viewer-current>1</span> of 2" in viewer
        assert png_size(client, f"/assets/{asset_id}/pages/2.png")[0] == 1000
        with client.get(f"/assets/{asset_id}/pages/3.png") as missing:
            assert missing.status_code == 404
    assert "Slides</dt><dd>2" in client.get(f"/assets/{deck_version.asset_id}").get_data(as_text=True)


@pytest.mark.parametrize("app", [{**PREVIEWS, "SOFFICE_PATH": "/nonexistent/soffice.bin"}], indirect=True)
def test_without_libreoffice_the_upload_succeeds_with_a_note(app, client, login_as, sample_files):
    login_as("marketer")
    response = upload(client, sample_files, sample_files.pptx(slides=["One", "Two"]))
    assert response.status_code == 302
    version = db.session.scalar(select(AssetVersion))
    assert version.preview_name is None and version.page_count == 2  # as python-pptx counted the slides
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "No preview: LibreOffice is not installed on this server." in page
    assert "/view" not in page and "Download PPTX" in page
    assert client.get(f"/assets/{version.asset_id}/view").status_code == 404


def test_a_conversion_that_fails_leaves_a_note_not_a_broken_asset(app, client, login_as, sample_files, tmp_path):
    silent = tmp_path / "soffice-that-writes-nothing"  # as LibreOffice does with a file it cannot load
    silent.write_text("#!/bin/sh\nexit 0\n")
    silent.chmod(0o755)
    app.config.update(OFFICE_PREVIEWS=True, SOFFICE_PATH=str(silent))
    login_as("marketer")
    assert upload(client, sample_files, sample_files.docx()).status_code == 302
    version = db.session.scalar(select(AssetVersion))
    assert version.preview_name is None and version.preview_note == "No preview: LibreOffice could not read this file."
    assert sorted(p.name for p in (app.config["FILES_DIR"] / ".incoming").iterdir()) == []


def test_a_pdf_gets_its_thumbnail_and_viewer_from_its_own_pages(app, client, login_as, sample_files):
    login_as("marketer")
    response = upload(client, sample_files, sample_files.pdf(pages=["One", "Two", "Three"]), kind="brochure")
    version = db.session.scalar(select(AssetVersion))
    assert version.preview_name is None and version.pages_name == version.stored_name
    assert png_size(client, f"/assets/{version.asset_id}/thumbnail")[0] == 360
    viewer = client.get(f"/assets/{version.asset_id}/view").get_data(as_text=True)
    assert viewer.count('class="viewer-page"') == 3
    assert "View 3 pages" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_flask_previews_makes_the_previews_files_uploaded_without_them_lack(app, client, login_as, sample_files,
                                                                           tmp_path):
    login_as("marketer")
    upload(client, sample_files, sample_files.docx(), title="Plan", kind="datasheet")  # previews are off here
    version = db.session.scalar(select(AssetVersion))
    assert version.preview_name is None and "turned off" in version.preview_note
    made = sample_files.pdf("made.pdf", pages=["Converted page one", "Converted page two"])
    stand_in = tmp_path / "soffice-stand-in"  # writes a known PDF where LibreOffice writes its output
    stand_in.write_text("#!/bin/sh\n"
                        'case "$*" in *--terminate_after_init*) exit 0;; esac\n'
                        'while [ "$1" != "--outdir" ]; do shift; done\n'
                        f'mkdir -p "$2" && cp {made} "$2/document.pdf"\n')
    stand_in.chmod(0o755)
    app.config.update(OFFICE_PREVIEWS=True, SOFFICE_PATH=str(stand_in))
    result = app.test_cli_runner().invoke(args=["previews"])
    assert result.exit_code == 0 and "1 of 1 files have a preview now." in result.output
    db.session.refresh(version)
    assert version.preview_name and version.page_count == 2 and version.thumbnail_name
    again = app.test_cli_runner().invoke(args=["previews"])
    assert "0 of 0 files" in again.output  # nothing left to do
