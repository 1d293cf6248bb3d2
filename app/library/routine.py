"""The library's routine jobs: the notification producers daily and the weekly digests, run by a job
worker. `flask notifications scan` and `send-digests` queue them (or run them inline with `--inline`),
and an idle worker queues each when it is due (`jobs.scheduled`): the day's scan once per UTC day, the
week's digests once per ISO week, whatever the number of workers (the job's title names the day or
week, `enqueue_once(per_title=True)`).

Both are safe to run again: the producers tell nobody the same notice twice, and a digest is mailed
at most once per user, kind and ISO week (app/notifications/digests.py).
"""
from __future__ import annotations

from datetime import datetime

from app import jobs
from app.library import notices
from app.models import utcnow
from app.notifications import digests, mail

SCAN_JOB = "notification_scan"
DIGESTS_JOB = "weekly_digests"


def scan_title(now: datetime) -> str:
    return f"Notifications scan {now.date().isoformat()}"


def digests_title(now: datetime) -> str:
    return f"Weekly digests {digests.week_of(now)}"


def queue_scan(now: datetime | None = None, *, per_title: bool = False) -> int:
    """Queue the producers' run (or find the one queued); its job id."""
    now = now or utcnow()
    return jobs.enqueue_once(SCAN_JOB, scan_title(now), payload={"now": now.isoformat()}, per_title=per_title)


def queue_digests(now: datetime | None = None, *, per_title: bool = False) -> int:
    """Queue the producers then the week's digests (or find the job queued); its job id."""
    now = now or utcnow()
    return jobs.enqueue_once(DIGESTS_JOB, digests_title(now), payload={"now": now.isoformat()},
                             per_title=per_title)


@jobs.scheduled
def queue_due(now: datetime) -> None:
    """An idle worker's call: today's scan and this week's digests, each queued once ever."""
    queue_scan(now, per_title=True)
    queue_digests(now, per_title=True)


def _now(run: jobs.Run) -> datetime:
    return datetime.fromisoformat(run.payload["now"]) if run.payload.get("now") else utcnow()


@jobs.task(SCAN_JOB)
def run_scan(run: jobs.Run) -> dict:
    line = notices.scan(_now(run)).line()
    return {"summary": line, "lines": [line]}


def send_digests(now: datetime) -> list[str]:
    """The weekly run, inline: the producers, then the week's digests; the lines to print. Raises
    `MailRefused` when the mail server refused a batch (the next run sends it)."""
    lines = [notices.scan(now).line()]
    summary = digests.send_weekly(now)
    lines += summary.lines()
    if summary.error and mail.configured():
        raise MailRefused(summary.error)
    return lines


class MailRefused(Exception):
    """The mail server refused the digests: the job is tried again later (what was sent stays sent)."""


@jobs.task(DIGESTS_JOB)
def run_digests(run: jobs.Run) -> dict:
    """The producers, then the week's digests. Without a mail server the job ends with nothing sent
    (and says so); a refusing one fails this attempt, so the worker tries again later."""
    lines = send_digests(_now(run))
    return {"summary": "; ".join(lines), "lines": lines}
