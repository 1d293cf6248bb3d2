"""An uploaded deck's pages are made by a job: the upload answers at once, the asset page says its
pages are coming, and once a worker ran the job the viewer pages through them."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.jobs import worker
from app.models import AssetVersion, Job
from tests.conftest import csrf_token


@pytest.mark.parametrize("app", [{"OFFICE_PREVIEWS": True, "JOBS_EAGER": False}], indirect=True)
def test_a_deck_gets_its_pages_from_a_job_after_the_upload(app, client, login_as, sample_files):
    login_as("marketer")
    deck = sample_files.pptx(slides=["Quarterly business review", "Next steps"])
    data = {"csrf_token": csrf_token(client, "/manage/new"), "title": "QBR deck", "kind": "slide_deck",
            "status": "published", "segments": ["1"], "stages": ["1"], **sample_files.upload(deck)}
    assert client.post("/manage/new", data=data, content_type="multipart/form-data").status_code == 302
    version = db.session.scalar(select(AssetVersion))
    assert version.preview_name is None  # the upload did not wait for LibreOffice
    page = client.get(f"/assets/{version.asset_id}").get_data(as_text=True)
    assert "Its pages are being prepared" in page and f'href="/assets/{version.asset_id}/view"' not in page
    (job,) = db.session.scalars(select(Job).where(Job.kind == "file_previews")).all()
    assert job.user_id is None and job.state == "queued"

    assert worker.run_next("test-worker")
    db.session.expire_all()
    version = db.session.get(AssetVersion, version.id)
    assert version.preview_name and version.page_count == 2
    assert db.session.get(Job, job.id).result == {"summary": "2 pages."}
    page = client.get(f"/assets/{version.asset_id}").get_data(as_text=True)
    assert "being prepared" not in page and f'href="/assets/{version.asset_id}/view"' in page
    viewer = client.get(f"/assets/{version.asset_id}/view").get_data(as_text=True)
    assert viewer.count('class="viewer-page"') == 2
