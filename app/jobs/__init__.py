"""Long work off the request path: the interface the rest of Bridge uses.

An area registers what a kind of job does (`@jobs.task("bulk_customize")`: a function of one
`Run`), a service enqueues one (`jobs.enqueue(kind, user, title, payload)`), the page polls
`status(job)`, and `flask jobs work` runs it (`app.jobs.worker`). Jobs live in Bridge's own
database (`app.jobs.queue`): nothing else to run, the same on SQLite and PostgreSQL, and every
node of a cluster sees the same queue. With JOBS_EAGER (tests) a job runs inside `enqueue`.

A task must be safe to run again: a worker that dies mid-job leaves it to another, which starts
it from the beginning (`Run.key(part)` names what a run made, so the next one finds it).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app.database import transaction
from app.extensions import db
from app.jobs import queue
from app.models import ADMINS, JOB_STATES, Job, User, utcnow

TASKS: dict[str, Callable[[Run], dict]] = {}
SCHEDULE: list[Callable[[datetime], None]] = []  # what an idle worker calls to queue work that is due
RECENT = 30


class JobError(Exception):
    """A reason a job cannot be done that trying again will not change: told to its owner as is."""


class Interrupted(Exception):  # noqa: N818 (a signal, not an error)
    """The worker is stopping: the job goes back to the queue at once."""


def task(kind: str) -> Callable:
    """Register `function(run) -> result dict` as what a job of `kind` does."""
    def register(function: Callable[[Run], dict]) -> Callable[[Run], dict]:
        TASKS[kind] = function
        return function
    return register


def scheduled(function: Callable[[datetime], None]) -> Callable[[datetime], None]:
    """Register `function(now)`, which queues whatever is due (with `enqueue_once(..., per_title=True)`,
    so that any number of workers, calling it any number of times, queue it once): an idle worker
    calls it every JOBS_SCHEDULE_S seconds (0: never)."""
    SCHEDULE.append(function)
    return function


@dataclass
class Run:
    """One attempt at a job, as its task sees it."""

    job_id: int
    payload: dict
    user: User | None
    attempt: int = 1
    report: Callable[[int, int, str, bool], None] = field(default=lambda done, total, note, may_stop: None)

    def progress(self, done: int, total: int, note: str = "", *, may_stop: bool = True) -> None:
        """How far the job got (shown on its page); raises Interrupted when the worker is stopping
        (unless the task cannot stop halfway: `may_stop=False`)."""
        self.report(done, total, note, may_stop)

    def key(self, part: object = "") -> str:
        """A name for something this job makes, the same in every attempt."""
        return f"{self.job_id}:{part}"[:40]


def enqueue(kind: str, user: User | None, title: str, payload: dict | None = None, *, total: int = 0,
            max_attempts: int = 3) -> Job:
    """Queue a job of `kind` for `user` (who sees its progress and is told how it ended)."""
    if kind not in TASKS:
        raise ValueError(f"no task is registered for {kind!r}")
    with transaction():
        job = Job(kind=kind, title=title[:200], user_id=user.id if user else None, payload=payload or {},
                  total=total, max_attempts=max_attempts)
        db.session.add(job)
        queue.announce()
    if current_app.config.get("JOBS_EAGER"):
        from app.jobs import worker

        worker.run_next(f"eager:{job.id}", only=job.id)
        db.session.refresh(job)
    return job


def enqueue_once(kind: str, title: str, *, run_eagerly: bool = True, payload: dict | None = None,
                 per_title: bool = False) -> int:
    """The id of the queued or running job of `kind` (one reindex at a time), else of a new one.
    With `per_title`, the job of `kind` and `title` in any state, ended ones too: one job per title
    ever (the week's digests: "Weekly digests 2026-W49").

    Written through a session of its own, so it may be called where the caller's session cannot
    write (after a commit: the search outbox). With JOBS_EAGER and `run_eagerly`, the job runs now.
    """
    if kind not in TASKS:
        raise ValueError(f"no task is registered for {kind!r}")
    title = title[:200]
    same = (Job.title == title) if per_title else Job.state.in_(("queued", "running"))
    with Session(db.engine) as session, session.begin():
        queue.exclusive(session, f"enqueue_once:{kind}")  # two requests at once queue one job
        job_id = session.scalar(select(Job.id).where(Job.kind == kind, same).order_by(Job.id).limit(1))
        if job_id is None:
            job = Job(kind=kind, title=title, payload=payload or {})
            session.add(job)
            session.flush()
            job_id = job.id
            queue.announce(session)
    if current_app.config.get("JOBS_EAGER") and run_eagerly:
        from app.jobs import worker

        worker.run_next(f"eager:{job_id}", only=job_id)
    return job_id


def state_of(job_id: int) -> str:
    """A job's state, read afresh."""
    return db.session.scalar(select(Job.state).where(Job.id == job_id).execution_options(populate_existing=True))


def own_job(user, job_id: int | None) -> Job | None:
    """The job if `user` asked for it or is an admin; None otherwise (the page 404s)."""
    job = db.session.get(Job, job_id) if job_id else None
    if job is None or not (job.user_id == user.id or user.has_role(*ADMINS)):
        return None
    return job


def status(job: Job) -> dict:
    """What a job's page shows and polls: state, progress, and its result or error once it ended."""
    percent = round(100 * job.done / job.total) if job.total else (100 if job.state == "done" else 0)
    return {"id": job.id, "kind": job.kind, "title": job.title, "state": job.state, "done": job.done,
            "total": job.total, "percent": min(percent, 100), "note": job.note, "attempts": job.attempts,
            "finished": job.state in ("done", "failed"), "result": job.result if job.state == "done" else None,
            "error": job.error if job.state == "failed" else ""}


def jobs_of(user, limit: int = RECENT) -> list[Job]:
    """The user's recent jobs, newest first (My jobs)."""
    return list(db.session.scalars(select(Job).where(Job.user_id == user.id)
                                   .order_by(Job.created_at.desc(), Job.id.desc()).limit(limit)))


def by_state(limit: int = 50) -> dict[str, list[Job]]:
    """Admins' view: the latest jobs in each state."""
    return {state: list(db.session.scalars(select(Job).where(Job.state == state).options(joinedload(Job.user))
                                           .order_by(Job.id.desc()).limit(limit))) for state in JOB_STATES}


def retry(job_id: int | None) -> Job | None:
    """Queue a failed job again (a fresh set of attempts); None if there is no such failed job."""
    job = db.session.get(Job, job_id) if job_id else None
    if job is None or job.state != "failed":
        return None
    with transaction():
        job.state, job.attempts, job.error, job.run_after, job.finished_at = "queued", 0, "", utcnow(), None
        queue.announce()
    if current_app.config.get("JOBS_EAGER"):
        from app.jobs import worker

        worker.run_next(f"eager:{job.id}", only=job.id)
        db.session.refresh(job)
    return job
