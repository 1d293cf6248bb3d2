"""`flask jobs work`: claim a job, run its task under a lease kept alive by a heartbeat, record how
it ended and tell its owner; between jobs, wait cheaply (LISTEN on PostgreSQL, a short poll of one
indexed query on SQLite).

SIGTERM or SIGINT stops the worker between two steps of a job: the job goes back to the queue at
once and another worker (or this one, next start) runs it again. SIGKILL leaves the job running
with a lease nobody renews; once it runs out the job is claimed again. A job that ran out of
attempts is failed and its owner told.
"""
from __future__ import annotations

import logging
import threading
import time

from flask import current_app
from sqlalchemy.engine import make_url

from app.database import transaction
from app.extensions import db
from app.jobs import SCHEDULE, TASKS, Interrupted, JobError, Run, queue
from app.models import Job, User, utcnow
from app.notifications.service import notify

log = logging.getLogger(__name__)


class Heartbeat:
    """Renews a job's lease every third of it, from a thread, while the task runs; records progress
    (at most twice a second) from the task's own thread."""

    def __init__(self, job_id: int, worker: str, attempt: int, lease_s: float, stopping: threading.Event | None):
        self.args = (job_id, worker, attempt, lease_s)
        self.stopping = stopping or threading.Event()
        self.done = threading.Event()
        self.last = 0.0
        app = current_app._get_current_object()
        self.thread = threading.Thread(target=self._beat, args=(app,), name=f"job-{job_id}-lease", daemon=True)
        self.thread.start()

    def _beat(self, app) -> None:
        with app.app_context():
            while not self.done.wait(self.args[3] / 3):
                try:
                    queue.extend(*self.args)
                except Exception:  # a busy database: the next beat tries again
                    log.warning("could not renew the lease of job %s", self.args[0], exc_info=True)

    def report(self, done: int, total: int, note: str, may_stop: bool = True) -> None:
        if may_stop and self.stopping.is_set():
            raise Interrupted()
        now = time.monotonic()
        if done >= total or now - self.last >= 0.5:
            self.last = now
            queue.extend(*self.args, done=done, total=total, note=note)

    def stop(self) -> None:
        self.done.set()
        self.thread.join()


def run_next(worker: str, only: int | None = None, stopping: threading.Event | None = None) -> bool:
    """Claim one runnable job and run it to its end; False when none was waiting."""
    fail_abandoned()
    lease_s = current_app.config["JOBS_LEASE_S"]
    claimed = queue.claim(worker, lease_s, only)
    if claimed is None:
        return False
    job_id, attempt = claimed
    job = db.session.get(Job, job_id)
    db.session.refresh(job)
    run = Run(job_id, dict(job.payload), db.session.get(User, job.user_id) if job.user_id else None, attempt)
    heartbeat = Heartbeat(job_id, worker, attempt, lease_s, stopping)
    run.report = heartbeat.report
    try:
        task = TASKS.get(job.kind)
        if task is None:
            raise JobError(f"This Bridge does not know how to run a {job.kind!r} job.")
        result = task(run) or {}
    except Interrupted:
        db.session.rollback()
        with transaction():
            queue.again_later(job_id, worker, attempt, "", 0)
    except JobError as exc:
        db.session.rollback()
        end_badly(job, worker, attempt, str(exc))
    except Exception as exc:
        db.session.rollback()
        log.exception("job %s (%s) failed on attempt %s", job_id, job.kind, attempt)
        reason = f"{type(exc).__name__}: {exc}"[:2000]
        if attempt >= job.max_attempts:
            end_badly(job, worker, attempt, reason)
        else:
            with transaction():
                queue.again_later(job_id, worker, attempt, reason, 5 * 2 ** attempt)
    else:
        with transaction():
            if queue.finished(job_id, worker, attempt, result) and job.user_id:
                notify(job.user_id, f"“{job.title}” is ready." + (f" {result['summary']}" if result.get("summary")
                                                                  else ""), f"/jobs/{job_id}", kind="job_done")
    finally:
        heartbeat.stop()
    return True


def end_badly(job: Job, worker: str, attempt: int, reason: str) -> None:
    """Fail the job and tell its owner why, in one transaction."""
    with transaction():
        if queue.failed(job.id, worker, attempt, reason) and job.user_id:
            notify(job.user_id, f"“{job.title}” failed: {reason}", f"/jobs/{job.id}", kind="job_failed")


def fail_abandoned() -> None:
    """Jobs whose worker died on their last allowed attempt: failed, and their owners told."""
    for job in queue.out_of_attempts():
        end_badly(job, job.worker, job.attempts,
                  f"The worker running it stopped {job.attempts} times before it ended; it was not tried again.")


def queue_what_is_due() -> None:
    """Let each scheduled producer queue what is due now (the week's digests)."""
    for function in SCHEDULE:
        try:
            function(utcnow())
        except Exception:  # one producer's trouble leaves the others and the worker running
            log.exception("the scheduled %s could not queue its job", function.__qualname__)
            db.session.rollback()
        finally:
            db.session.remove()


class Waiter:
    """Sleeps until a job may be waiting: woken by NOTIFY on PostgreSQL, else after `poll_s`."""

    def __init__(self, poll_s: float):
        self.poll_s = poll_s
        self.connection = None
        if queue.on_postgres():
            import psycopg

            url = make_url(db.engine.url).set(drivername="postgresql")
            self.connection = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)
            self.connection.execute(f"LISTEN {queue.CHANNEL}")

    def wait(self, stop: threading.Event) -> None:
        if self.connection is None:
            stop.wait(self.poll_s)
            return
        for _ in self.connection.notifies(timeout=self.poll_s, stop_after=1):
            pass

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


def work(stop: threading.Event, poll_s: float | None = None, max_jobs: int | None = None) -> int:
    """Run jobs until `stop` is set (or `max_jobs` ran); returns how many ran."""
    worker, ran = queue.worker_name(), 0
    waiter = Waiter(poll_s or current_app.config["JOBS_POLL_S"])
    every_s, last_schedule = current_app.config["JOBS_SCHEDULE_S"], None
    log.info("job worker %s waiting for jobs", worker)
    try:
        while not stop.is_set() and (max_jobs is None or ran < max_jobs):
            try:
                if run_next(worker, stopping=stop):
                    ran += 1
                    continue
            except Exception:  # the database went away for a moment: wait and try again
                log.exception("job worker %s could not claim a job", worker)
                db.session.rollback()
            finally:
                db.session.remove()
            if every_s > 0 and (last_schedule is None or time.monotonic() - last_schedule >= every_s):
                last_schedule = time.monotonic()
                queue_what_is_due()
                continue  # run what was queued before waiting
            waiter.wait(stop)
    finally:
        waiter.close()
    return ran
