"""Jobs' pages: one job's progress and result (polled as JSON), My jobs, and Admin → Jobs."""
from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, url_for
from flask_login import current_user

from app import jobs
from app.models import ADMINS, EVERYONE
from app.web.access import roles_required
from app.web.forms import ActionForm

bp = Blueprint("jobs", __name__)


@bp.route("/jobs")
@roles_required(*EVERYONE)
def mine():
    """My jobs: what I started lately, with its state; each links to its page."""
    return render_template("jobs/mine.html", found=jobs.jobs_of(current_user))


@bp.route("/jobs/<int:job_id>")
@roles_required(*EVERYONE)
def job(job_id: int):
    """A job's page: its progress while it runs (the page polls the JSON below), then its result."""
    found = jobs.own_job(current_user, job_id) or abort(404)
    return render_template("jobs/job.html", job=found, status=jobs.status(found), form=ActionForm())


@bp.route("/jobs/<int:job_id>.json")
@roles_required(*EVERYONE)
def job_status(job_id: int):
    """The job's state and progress, for its page to poll; 404 unless it is mine (or I am an admin)."""
    found = jobs.own_job(current_user, job_id) or abort(404)
    response = jsonify(jobs.status(found))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/admin/jobs")
@roles_required(*ADMINS)
def admin():
    """Admin → Jobs: queued, running, failed (with the error) and done; a failed one can be retried."""
    return render_template("jobs/admin.html", by_state=jobs.by_state(), form=ActionForm())


@bp.post("/admin/jobs/<int:job_id>/retry")
@roles_required(*ADMINS)
def retry(job_id: int):
    if not ActionForm().validate_on_submit():
        flash("The form expired. Reload the page and try again.", "error")
    elif (found := jobs.retry(job_id)) is None:
        flash("Only a failed job can be retried.", "error")
    else:
        flash(f"“{found.title}” is queued again.", "success")
    return redirect(url_for("jobs.admin"))
