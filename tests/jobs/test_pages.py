"""Jobs as people meet them (run at once here: JOBS_EAGER): the owner's page and its status, My jobs,
a failure told to the owner and listed for admins, a retry, and the same PDFs as in the request."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app import jobs
from app.documents import bulk
from app.extensions import db
from app.jobs import worker
from app.models import GeneratedDocument, Job, Notification, utcnow
from tests.conftest import login, post_form
from tests.jobs.conftest import accounts_csv, job_id_of, pdf_text, start_bulk

TRIES: dict[int, int] = {}


@jobs.task("test_refused")
def refused(run: jobs.Run) -> dict:
    raise jobs.JobError("The template was withdrawn while the job waited.")


@jobs.task("test_flaky")
def flaky(run: jobs.Run) -> dict:
    """Fails with an unexpected error the first time it runs, works the second."""
    TRIES[run.job_id] = TRIES.get(run.job_id, 0) + 1
    if TRIES[run.job_id] == 1:
        raise RuntimeError("the disk was full")
    return {"summary": "Worked the second time."}


def test_only_the_owner_and_admins_see_a_job(app, client, manager, one_pager, make_user):
    job_id = job_id_of(start_bulk(client, one_pager, accounts_csv(2)))
    assert client.get(f"/jobs/{job_id}.json").get_json()["state"] == "done"
    mine = client.get("/jobs").get_data(as_text=True)
    assert "2 PDFs of Hospital one-pager" in mine and f"/jobs/{job_id}" in mine

    other = app.test_client()  # another manager of the same team
    login(other, make_user("manager", team="Team East").email)
    assert other.get(f"/jobs/{job_id}.json").status_code == 404
    assert other.get(f"/jobs/{job_id}").status_code == 404
    assert other.get("/jobs/999999.json").status_code == 404
    assert "2 PDFs of Hospital one-pager" not in other.get("/jobs").get_data(as_text=True)
    assert other.get("/admin/jobs").status_code == 403

    admin = app.test_client()
    login(admin, make_user("admin").email)
    assert admin.get(f"/jobs/{job_id}.json").get_json()["done"] == 2
    assert "2 PDFs of Hospital one-pager" in admin.get("/admin/jobs").get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_log_in(app, client):
    assert client.get("/jobs/1.json").status_code == 302


def test_a_failed_job_is_told_to_its_owner_and_listed_for_admins_who_retry_it(app, client, make_user):
    owner = make_user("rep")
    refused_job = jobs.enqueue("test_refused", owner, "Pitch kit for Harbor General")
    flaky_job = jobs.enqueue("test_flaky", owner, "Reindex for the rep", max_attempts=1)
    assert (refused_job.state, refused_job.error) == ("failed", "The template was withdrawn while the job waited.")
    assert flaky_job.state == "failed" and "RuntimeError: the disk was full" in flaky_job.error
    told = db.session.scalars(select(Notification).where(Notification.user_id == owner.id)
                              .order_by(Notification.id)).all()
    assert [(n.message, n.link) for n in told] == [
        ("“Pitch kit for Harbor General” failed: The template was withdrawn while the job waited.",
         f"/jobs/{refused_job.id}"),
        ("“Reindex for the rep” failed: RuntimeError: the disk was full", f"/jobs/{flaky_job.id}")]

    login(client, owner.email)
    page = client.get(f"/jobs/{refused_job.id}").get_data(as_text=True)
    assert "It failed: The template was withdrawn while the job waited." in page

    client = app.test_client()
    login(client, make_user("admin").email)
    admin_page = client.get("/admin/jobs").get_data(as_text=True)
    assert "Pitch kit for Harbor General" in admin_page and "RuntimeError: the disk was full" in admin_page
    retried = post_form(client, f"/admin/jobs/{flaky_job.id}/retry", follow_redirects=True).get_data(as_text=True)
    assert "“Reindex for the rep” is queued again." in retried
    again = db.session.get(Job, flaky_job.id)
    assert (again.state, again.result, again.attempts) == ("done", {"summary": "Worked the second time."}, 1)
    refused_again = post_form(client, f"/admin/jobs/{again.id}/retry", follow_redirects=True)
    assert "Only a failed job can be retried." in refused_again.get_data(as_text=True)


def test_a_bulk_run_through_the_job_makes_the_pdfs_the_request_made(app, client, manager, one_pager):
    csv_text = accounts_csv(4)
    upload = bulk.stash(manager, csv_text.encode())
    mapping = {"hospital_name": "Hospital", "bed_count": "Number of beds"}
    in_request = {r.account: r.document for r in bulk.generate_many(manager, one_pager, upload, mapping)}

    job_id = job_id_of(start_bulk(client, one_pager, csv_text))
    job = db.session.get(Job, job_id)
    through_job = {d.account: d for d in db.session.scalars(
        select(GeneratedDocument).where(GeneratedDocument.id.in_(job.result["documents"])))}
    assert sorted(through_job) == sorted(in_request) == [f"Hospital {n:03}" for n in range(1, 5)]
    for account, document in through_job.items():
        with client.get(f"/documents/{document.id}/download") as made_by_job, \
                client.get(f"/documents/{in_request[account].id}/download") as made_in_request:
            assert pdf_text(made_by_job.data) == pdf_text(made_in_request.data)
            assert f"Lumenfold for {account}" in pdf_text(made_by_job.data)


def test_a_job_whose_worker_died_on_every_attempt_fails_and_tells_its_owner(app, make_user):
    owner = make_user("rep")
    job = Job(kind="test_flaky", title="Pitch kit for Acme", user_id=owner.id, state="running", attempts=3,
              max_attempts=3, worker="gone:1", lease_until=utcnow() - timedelta(seconds=1))
    db.session.add(job)
    db.session.commit()
    assert worker.run_next("another") is False  # not run a fourth time
    db.session.expire_all()
    failed = db.session.get(Job, job.id)
    assert failed.state == "failed" and "stopped 3 times" in failed.error
    (told,) = db.session.scalars(select(Notification).where(Notification.user_id == owner.id)).all()
    assert told.message.startswith("“Pitch kit for Acme” failed: The worker running it stopped 3 times")
