"""Real job workers (`flask jobs work` in their own processes): a queued bulk run is made by a worker,
and one whose worker is killed mid-run is finished by another, each account's PDF made once."""
from __future__ import annotations

import signal
from collections import Counter

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import GeneratedDocument, Notification
from tests.jobs.conftest import accounts_csv, fresh_job, job_id_of, pdf_text, start_bulk, start_worker, wait_for

QUEUED = [{"JOBS_EAGER": False}]


@pytest.mark.parametrize("app", QUEUED, indirect=True)
def test_a_bulk_run_waits_in_the_queue_until_a_worker_makes_it(app, client, manager, one_pager):
    job_id = job_id_of(start_bulk(client, one_pager, accounts_csv(3)))
    waiting = client.get(f"/jobs/{job_id}.json").get_json()
    assert waiting["state"] == "queued" and waiting["total"] == 3 and not waiting["finished"]
    assert "Waiting for a worker" in client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert db.session.scalars(select(GeneratedDocument)).all() == []  # nothing is made in the request

    worker = start_worker(app, "--max-jobs", "1")
    output, _ = worker.communicate(timeout=180)
    assert worker.returncode == 0, output

    status = client.get(f"/jobs/{job_id}.json").get_json()
    assert status["state"] == "done" and status["done"] == 3 and status["percent"] == 100
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "3 documents made." in page and "Download 3 PDFs as ZIP" in page
    documents = db.session.scalars(select(GeneratedDocument).order_by(GeneratedDocument.account)).all()
    assert [d.account for d in documents] == ["Hospital 001", "Hospital 002", "Hospital 003"]
    with client.get(f"/documents/{documents[1].id}/download") as pdf:
        assert "Lumenfold for Hospital 002" in pdf_text(pdf.data) and "across 102 beds" in pdf_text(pdf.data)
    told = db.session.scalars(select(Notification).where(Notification.user_id == manager.id)).all()
    assert [(n.message, n.link) for n in told] == [
        ("“3 PDFs of Hospital one-pager” is ready. 3 documents made.", f"/jobs/{job_id}")]


@pytest.mark.parametrize("app", QUEUED, indirect=True)
def test_a_job_whose_worker_is_killed_is_finished_by_another_without_duplicates(app, client, manager, one_pager):
    rows = 12  # at 0.25 s a row, the first worker is killed after its third PDF, seconds before its last
    job_id = job_id_of(start_bulk(client, one_pager, accounts_csv(rows)))
    first = start_worker(app, pace_s=0.25)
    try:
        wait_for(lambda: fresh_job(job_id).done >= 3, "the first worker to make a few PDFs")
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=30)
    cut_short = fresh_job(job_id)
    assert cut_short.state == "running" and cut_short.done < rows  # left behind with a lease nobody renews

    second = start_worker(app, "--max-jobs", "1")
    output, _ = second.communicate(timeout=300)
    assert second.returncode == 0, output

    job = fresh_job(job_id)
    assert job.state == "done" and job.attempts == 2 and job.done == rows
    documents = db.session.scalars(select(GeneratedDocument)).all()
    made = Counter(d.account for d in documents)
    assert len(made) == rows and set(made.values()) == {1}  # every account once, none twice
    assert sorted(job.result["documents"]) == sorted(d.id for d in documents)
    assert f"{rows} documents made." in client.get(f"/jobs/{job_id}").get_data(as_text=True)


@pytest.mark.parametrize("app", QUEUED, indirect=True)
def test_sigterm_puts_the_running_job_back_for_the_next_worker(app, client, manager, one_pager):
    rows = 12
    job_id = job_id_of(start_bulk(client, one_pager, accounts_csv(rows)))
    # a lease that would outlive the test: the job must be handed back
    first = start_worker(app, lease_s=600, pace_s=0.25)
    try:
        wait_for(lambda: fresh_job(job_id).done >= 2, "the first worker to make a few PDFs")
    finally:
        first.send_signal(signal.SIGTERM)
        output, _ = first.communicate(timeout=60)
    assert first.returncode == 0 and "Job worker stopped" in output
    assert fresh_job(job_id).state == "queued"

    second = start_worker(app, "--max-jobs", "1")
    second.communicate(timeout=300)
    job = fresh_job(job_id)
    assert job.state == "done" and len(db.session.scalars(select(GeneratedDocument)).all()) == rows
