"""The job table as a queue: claim under a lease, keep the lease alive, record how a run ended.

One mechanism on both databases. A claim is one UPDATE … WHERE id = (the oldest runnable job)
RETURNING id: PostgreSQL picks that row with FOR UPDATE SKIP LOCKED, so workers on several
machines never wait for each other nor take the same job; SQLite runs one writer at a time and an
UPDATE takes the write lock before it reads (it is the transaction's first statement), so the
statement is atomic by itself and waits out another writer within the busy timeout.

Runnable means queued and due, or running with its lease run out: the worker that held it died
(SIGKILL, a lost machine), and the job is retried. Every write that ends a run names the attempt
it ends (`worker`, `attempts`): a worker that lost its lease and finishes late changes nothing.
"""
from __future__ import annotations

import logging
import os
import socket
import zlib
from datetime import timedelta

from sqlalchemy import or_, select, text, update

from app.extensions import db
from app.models import Job, utcnow

log = logging.getLogger(__name__)
CHANNEL = "bridge_jobs"


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:80]


def on_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def announce(session=None) -> None:
    """Wake the PostgreSQL workers listening (delivered when the caller's transaction commits)."""
    if on_postgres():
        (session or db.session).execute(text(f"NOTIFY {CHANNEL}"))


def exclusive(session, name: str) -> None:
    """Hold, until `session`'s transaction ends, a lock that other callers naming `name` wait for:
    check-then-insert is then atomic (enqueue_once from many requests at once). PostgreSQL takes a
    transaction-level advisory lock; SQLite's first write statement takes the database's write lock
    (an UPDATE that changes nothing), so the reads after it see every earlier writer's rows."""
    if on_postgres():
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": zlib.crc32(name.encode())})
    else:
        session.execute(update(Job).where(Job.id == -1).values(note=""))


def claim(worker: str, lease_s: float, only: int | None = None) -> tuple[int, int] | None:
    """Take the oldest runnable job (or job `only`) for `worker`: (its id, this attempt's number), or None."""
    now = utcnow()
    runnable = (select(Job.id)
                .where(or_((Job.state == "queued") & (Job.run_after <= now),
                           (Job.state == "running") & (Job.lease_until < now) & (Job.attempts < Job.max_attempts)),
                       Job.id == only if only is not None else True)
                .order_by(Job.run_after, Job.id).limit(1)
                .with_for_update(skip_locked=True))
    statement = (update(Job).where(Job.id == runnable.scalar_subquery())
                 .values(state="running", attempts=Job.attempts + 1, worker=worker,
                         lease_until=now + timedelta(seconds=lease_s), started_at=now, error="")
                 .returning(Job.id, Job.attempts))
    with db.engine.begin() as connection:
        row = connection.execute(statement).first()
    return (row[0], row[1]) if row else None


def extend(job_id: int, worker: str, attempt: int, lease_s: float, done: int | None = None,
           total: int | None = None, note: str | None = None) -> bool:
    """Renew the lease (and record progress); False when the job is no longer this attempt's."""
    values: dict = {"lease_until": utcnow() + timedelta(seconds=lease_s)}
    if done is not None:
        values.update(done=done, total=total if total is not None else done, note=(note or "")[:200])
    with db.engine.begin() as connection:
        changed = connection.execute(update(Job).where(Job.id == job_id, Job.worker == worker,
                                                       Job.attempts == attempt).values(**values)).rowcount
    return bool(changed)


def ended(job_id: int, worker: str, attempt: int, **values) -> bool:
    """Record how this attempt ended, in the caller's session (committed with its other writes)."""
    statement = update(Job).where(Job.id == job_id, Job.worker == worker, Job.attempts == attempt).values(**values)
    return bool(db.session.execute(statement).rowcount)


def finished(job_id: int, worker: str, attempt: int, result: dict) -> bool:
    return ended(job_id, worker, attempt, state="done", result=result, lease_until=None, finished_at=utcnow())


def failed(job_id: int, worker: str, attempt: int, error: str) -> bool:
    return ended(job_id, worker, attempt, state="failed", error=error, lease_until=None, finished_at=utcnow())


def again_later(job_id: int, worker: str, attempt: int, error: str, delay_s: float) -> bool:
    """Put the job back in the queue, due in `delay_s` (0: at once, for an interrupted run)."""
    return ended(job_id, worker, attempt, state="queued", error=error, lease_until=None,
                 run_after=utcnow() + timedelta(seconds=delay_s))


def out_of_attempts() -> list[Job]:
    """Running jobs whose lease ran out on their last allowed attempt: their workers died each time."""
    return list(db.session.scalars(select(Job).where(Job.state == "running", Job.lease_until < utcnow(),
                                                     Job.attempts >= Job.max_attempts)))
