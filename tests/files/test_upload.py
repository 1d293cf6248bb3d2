"""Uploads: real files are read and thumbnailed; bad ones are refused clearly and leave nothing behind."""
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Asset, AssetVersion
from tests.conftest import csrf_token, login


def stored_files(app) -> list[str]:
    root = app.config["FILES_DIR"]
    return sorted(p.name for p in root.rglob("*") if p.is_file())


def asset_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Asset))


def upload_asset(client, sample_files, path, filename=None, **fields):
    data = {"csrf_token": csrf_token(client, "/manage/new"), "title": fields.pop("title", "Uploaded asset"),
            "kind": "brochure", "status": "published", "terms": ["1"], "stages": ["1"], **fields}
    data.update(sample_files.upload(path, filename=filename))
    return client.post("/manage/new", data=data, content_type="multipart/form-data")


@pytest.mark.parametrize("maker, file_type, pages, thumbnail, phrase", [
    ("pdf", "pdf", 2, True, "Total cost of ownership"),
    ("pptx", "pptx", 2, False, "Quarterly business review"),
    ("docx", "docx", 1, False, "Mutual action plan"),  # as recorded in docProps/app.xml
    ("png", "png", 1, True, None),
    ("jpeg", "jpg", 1, True, None),
])
def test_marketer_uploads_each_accepted_type(app, client, login_as, sample_files, maker, file_type,
                                             pages, thumbnail, phrase):
    login_as("marketer")
    if maker == "pdf":
        path = sample_files.pdf(pages=["Total cost of ownership", "Payback in 7 months"])
    elif maker == "pptx":
        path = sample_files.pptx(slides=["Quarterly business review", "Next steps"])
    elif maker == "docx":
        path = sample_files.docx(paragraphs=["Mutual action plan", "Owners and dates"])
    else:
        path = getattr(sample_files, maker)()
    response = upload_asset(client, sample_files, path)
    assert response.status_code == 302, response.get_data(as_text=True)
    version = db.session.scalar(select(AssetVersion))
    assert version.file_type == file_type
    assert version.page_count == pages
    assert version.original_filename == path.name
    assert (version.thumbnail_name is not None) == thumbnail
    if phrase:
        assert phrase in version.text
    stored = stored_files(app)
    assert version.stored_name in stored and path.name not in stored  # generated names only
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Uploaded asset" in page and "Download" in page
    if thumbnail:
        with client.get(f"/assets/{version.asset_id}/thumbnail") as thumb:
            assert thumb.status_code == 200 and thumb.data.startswith(b"\x89PNG")


def test_file_named_pdf_that_is_not_a_pdf_is_refused(app, client, login_as, sample_files):
    login_as("marketer")
    fake = sample_files.docx("contract.docx")
    response = upload_asset(client, sample_files, fake, filename="brochure.pdf")
    text = response.get_data(as_text=True)
    assert "brochure.pdf is named like a PDF but its content is not a PDF" in text
    assert asset_count() == 0 and stored_files(app) == []


@pytest.mark.parametrize("maker, message", [
    ("corrupt_pdf", "could not be read"),
    ("encrypted_pdf", "password-protected"),
    ("zip_bomb_docx", "expands to far more data"),
    ("spread_zip_bomb_docx", "expands to far more data"),
])
def test_broken_or_hostile_files_are_refused_and_nothing_is_stored(app, client, login_as, sample_files,
                                                                   maker, message):
    login_as("marketer")
    response = upload_asset(client, sample_files, getattr(sample_files, maker)())
    assert message in response.get_data(as_text=True)
    assert asset_count() == 0 and stored_files(app) == []


def test_unsupported_type_is_refused(app, client, login_as, sample_files):
    login_as("marketer")
    path = sample_files.raw("setup.exe", b"MZ\x90\x00" + b"\x00" * 500)
    response = upload_asset(client, sample_files, path)
    assert "not a file type Bridge accepts" in response.get_data(as_text=True)
    assert asset_count() == 0 and stored_files(app) == []


@pytest.mark.parametrize("app", [{"MAX_UPLOAD_MB": 1, "MAX_CONTENT_LENGTH": 1024 * 1024}], indirect=True)
def test_oversized_upload_gets_a_clear_error(app, client, login_as, sample_files):
    login_as("marketer")
    token = csrf_token(client, "/manage/new")
    boundary = "bridge-test-boundary"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="huge.pdf"\r\n'
            f'Content-Type: application/pdf\r\n\r\n').encode() + b"%PDF-1.7\n" + b"0" * (2 * 1024 * 1024) \
        + f"\r\n--{boundary}--\r\n".encode()
    response = client.post("/manage/new", data=body,
                           content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 413
    assert "larger than the 1 MB limit" in response.get_data(as_text=True)
    assert asset_count() == 0 and stored_files(app) == []


@pytest.mark.parametrize("app", [{"EXTRACT_MEMORY_MB": 64}], indirect=True)
def test_extraction_is_bounded_in_memory(app, client, login_as, sample_files):
    login_as("marketer")
    response = upload_asset(client, sample_files, sample_files.png("poster.png", size=(6000, 6000)))  # 108 MB decoded
    assert response.status_code == 422
    assert "needs too much memory" in response.get_data(as_text=True)
    assert asset_count() == 0 and stored_files(app) == []


def test_new_version_keeps_the_old_one_downloadable(app, client, login_as, sample_files):
    login_as("marketer")
    first = upload_asset(client, sample_files, sample_files.pdf("v1.pdf", ["Version one pricing"]))
    asset_id = int(first.headers["Location"].rsplit("/", 1)[1])
    second = sample_files.pdf("v2.pdf", ["Version two pricing"])
    response = client.post(f"/manage/{asset_id}/versions", content_type="multipart/form-data",
                           data={"csrf_token": csrf_token(client, f"/manage/{asset_id}/edit"),
                                 **sample_files.upload(second)})
    assert response.status_code == 302
    page = client.get(f"/assets/{asset_id}").get_data(as_text=True)
    assert "v1.pdf" in page and "v2.pdf" in page
    with client.get(f"/assets/{asset_id}/download") as latest:
        disposition = latest.headers["Content-Disposition"]
        assert disposition.startswith("attachment") and "v2.pdf" in disposition
    with client.get(f"/assets/{asset_id}/versions/1/download") as old:
        assert old.status_code == 200 and old.data == sample_files.path("v1.pdf").read_bytes()


def test_reps_get_only_the_current_version(app, client, login_as, make_user, sample_files):
    """A superseded file (last year's pricing) is history for marketers, never something a rep sends."""
    login_as("marketer")
    first = upload_asset(client, sample_files, sample_files.pdf("v1.pdf", ["Version one pricing"]))
    asset_id = int(first.headers["Location"].rsplit("/", 1)[1])
    client.post(f"/manage/{asset_id}/versions", content_type="multipart/form-data",
                data={"csrf_token": csrf_token(client, f"/manage/{asset_id}/edit"),
                      **sample_files.upload(sample_files.pdf("v2.pdf", ["Version two pricing"]))})
    rep = app.test_client()
    login(rep, make_user("rep").email)
    page = rep.get(f"/assets/{asset_id}").get_data(as_text=True)
    assert f"/assets/{asset_id}/versions/1/download" not in page and "v1.pdf" not in page
    assert rep.get(f"/assets/{asset_id}/versions/1/download").status_code == 404
    with rep.get(f"/assets/{asset_id}/versions/2/download") as current:
        assert current.status_code == 200 and current.data == sample_files.path("v2.pdf").read_bytes()


def test_bad_replacement_file_leaves_the_current_version(app, client, login_as, sample_files):
    login_as("marketer")
    first = upload_asset(client, sample_files, sample_files.pdf("v1.pdf"))
    asset_id = int(first.headers["Location"].rsplit("/", 1)[1])
    before = stored_files(app)
    client.post(f"/manage/{asset_id}/versions", content_type="multipart/form-data",
                data={"csrf_token": csrf_token(client, f"/manage/{asset_id}/edit"),
                      **sample_files.upload(sample_files.corrupt_pdf())}, follow_redirects=True)
    assert stored_files(app) == before
    assert [v.number for v in db.session.get(Asset, asset_id).versions] == [1]
