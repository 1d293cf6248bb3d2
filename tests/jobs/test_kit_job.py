"""A pitch kit built by a job: the page the rep lands on, the kit made once however often the job runs,
and what the rep adds meanwhile left for the next kit."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app import jobs
from app.documents import kits
from app.extensions import db
from app.models import GeneratedDocument, Job, KitDraftItem
from tests.conftest import login, post_form
from tests.jobs.conftest import fresh_job, job_id_of, pdf_text, start_worker


@pytest.fixture
def rep(client, make_user):
    user = make_user("rep", name="Riley Park")
    login(client, user.email)
    return user


def build(client, account: str):
    return post_form(client, "/kits/new", {"account": account, "title": "", "intro": "", "build": "1"})


def test_the_kit_is_built_by_a_job_whose_page_links_to_it(client, rep, make_asset):
    sheet = make_asset("Security whitepaper", body="Encryption at rest.")
    post_form(client, "/kits/items", {"asset": str(sheet.id)})
    job_id = job_id_of(build(client, "Northwind Health"))
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    kit = db.session.scalar(select(GeneratedDocument))
    assert "Done: “Pitch kit — Northwind Health”: 3 pages." in page and f"/documents/{kit.id}/download" in page
    with client.get(f"/documents/{kit.id}/download") as download:
        assert "Northwind Health" in pdf_text(download.data) and "Security whitepaper" in pdf_text(download.data)
    assert db.session.get(Job, job_id).result == {"summary": "“Pitch kit — Northwind Health”: 3 pages.",
                                                  "document": kit.id}


def test_a_kit_job_run_again_finds_the_kit_it_kept(client, rep, make_asset):
    sheet = make_asset("Security whitepaper")
    post_form(client, "/kits/items", {"asset": str(sheet.id)})
    job_id = job_id_of(build(client, "Acme"))
    again = kits.run_kit(jobs.Run(job_id, dict(db.session.get(Job, job_id).payload), rep))  # as a retry would
    assert [d.id for d in db.session.scalars(select(GeneratedDocument))] == [again["document"]]


@pytest.mark.parametrize("app", [{"JOBS_EAGER": False}], indirect=True)
def test_what_the_rep_adds_while_the_kit_waits_stays_for_the_next_kit(app, client, rep, make_asset):
    first, later = make_asset("Platform brochure"), make_asset("Customer story")
    post_form(client, "/kits/items", {"asset": str(first.id)})
    job_id = job_id_of(build(client, "Acme"))
    assert client.get(f"/jobs/{job_id}.json").get_json()["state"] == "queued"
    post_form(client, "/kits/items", {"asset": str(later.id)})

    worker = start_worker(app, "--max-jobs", "1")
    output, _ = worker.communicate(timeout=180)
    assert worker.returncode == 0 and fresh_job(job_id).state == "done", output
    kit = db.session.scalar(select(GeneratedDocument))
    assert kit.values["kit"] == [first.id]
    assert [i.asset_id for i in db.session.scalars(select(KitDraftItem))] == [later.id]
