"""The weekly review PDF as a job: the insights page queues it, a job worker counts the week and
renders it (seconds to a minute on a large log, too long for a request), and the job's page offers
the download once it is ready. `GET /insights/report.pdf` still renders in the request, for links
and scripts that fetch the file directly.

What content gaps' queries find today is counted as a rep would see it (drafts left out), through
the counter the app registers (`current_app.extensions["gap_counter"]`): the search area sits beside
this one, not below it.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from flask import current_app

from app import jobs
from app.files import storage
from app.insights import weekly
from app.insights.scope import iso_week
from app.models import Job

REPORT_JOB = "weekly_review"


def start(user, label: str, team_id: int | None) -> Job:
    """Queue the weekly review of ISO week `label` (ValueError if it is not one) for `user`."""
    iso_week(label)
    return jobs.enqueue(REPORT_JOB, user, f"Weekly review {label}", {"week": label, "team": team_id}, total=2)


@jobs.task(REPORT_JOB)
def run_report(run: jobs.Run) -> dict:
    """Count the week, render the PDF into the file store; the file's name is the job's result (an
    attempt cut short leaves at most an unlisted file: the next one renders again)."""
    label = run.payload["week"]
    scope = replace(iso_week(label), team_id=run.payload.get("team"))
    run.progress(0, 2, "Counting the week's figures")
    review = weekly.weekly_review(scope, f"Weekly review {label}", current_app.extensions.get("gap_counter"))
    run.progress(1, 2, "Rendering the PDF")
    name = storage.store_bytes(weekly.weekly_review_pdf(review), "pdf")
    run.progress(2, 2, "Ready")
    return {"summary": f"Weekly review {label} is ready.", "report": name}


def report_file(user, job_id: int) -> tuple[Path, str] | None:
    """The finished report of a job `user` may see: its path and download name; None otherwise."""
    job = jobs.own_job(user, job_id)
    if job is None or job.kind != REPORT_JOB or job.state != "done" or not (job.result or {}).get("report"):
        return None
    return storage.path_of(job.result["report"]), f"bridge-review-{job.payload['week']}.pdf"
