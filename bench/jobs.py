"""Jobs: enqueue latency and no-op throughput of Bridge's queue table, and bulk customize (PDFs/s)
through the job worker against rendering in the request, measured in the same run.

Usage: .venv/bin/python bench/jobs.py [--enqueues 300] [--rows 60] [--huey /tmp/jobs-huey]
       bash .ci/with-postgres .venv/bin/python bench/jobs.py ...   (PostgreSQL as well as SQLite)

Enqueue: `jobs.enqueue` (a row, NOTIFY on PostgreSQL, a commit) against a bare one-row INSERT and
commit into the same database (the ratio); then one in-process worker claims and runs the no-op
jobs (`worker.run_next`: claim, lease heartbeat thread, result, notification). With --huey (a
directory holding huey, e.g. `pip install --target /tmp/jobs-huey huey`), huey's SqliteHuey on
the same disk: enqueue, then dequeue-and-execute, for comparison.

Bulk: one CSV of --rows accounts, the demo's ROI template: `bulk.generate_many` in the process
(what the request did), then the same rows as a job run by `flask jobs work` in its own process,
from the enqueue to the job's end (the worker already running: its start, and its render child's,
are timed apart with a one-row job).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("BRIDGE_SECRET_KEY", "bench")

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from app import create_app, jobs, search  # noqa: E402
from app.accounts import service as accounts  # noqa: E402
from app.documents import authoring, bulk  # noqa: E402
from app.extensions import db  # noqa: E402
from app.jobs import worker  # noqa: E402
from app.library import assets  # noqa: E402
from app.models import Job  # noqa: E402
from tests import databases  # noqa: E402

TEMPLATE = ROOT / "collateral" / "templates" / "roi-summary"


@jobs.task("bench_noop")
def noop(run: jobs.Run) -> dict:
    return {}


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return f"p50 {statistics.median(ordered) * 1000:6.2f} ms  p95 {p95 * 1000:6.2f} ms"


def enqueue_figures(n: int) -> None:
    user = accounts.create_user("bench@example.com", "Bench", "manager", "a-long-enough-password", None)
    db.session.execute(sa.text("CREATE TABLE bench_row (id INTEGER PRIMARY KEY, payload TEXT)"))
    db.session.commit()
    bare = []
    for i in range(n):
        start = time.perf_counter()
        db.session.execute(sa.text("INSERT INTO bench_row (id, payload) VALUES (:i, '{}')"), {"i": i})
        db.session.commit()
        bare.append(time.perf_counter() - start)
    queued = []
    for _ in range(n):
        start = time.perf_counter()
        jobs.enqueue("bench_noop", user, "no-op")
        queued.append(time.perf_counter() - start)
    start = time.perf_counter()
    ran = 0
    while worker.run_next("bench"):
        ran += 1
    run_s = time.perf_counter() - start
    ratio = statistics.median(queued) / statistics.median(bare)
    print(f"  bare INSERT + commit      {percentiles(bare)}")
    print(f"  jobs.enqueue              {percentiles(queued)}   ratio {ratio:.2f}")
    print(f"  one worker, no-op jobs    {ran / run_s:7.0f} jobs/s ({ran} in {run_s:.1f} s)")


def huey_figures(path: str, n: int, directory: Path) -> None:
    sys.path.insert(0, path)
    from huey import SqliteHuey

    huey = SqliteHuey(filename=str(directory / "huey.db"))

    @huey.task()
    def nothing():
        return None

    queued = []
    for _ in range(n):
        start = time.perf_counter()
        nothing()
        queued.append(time.perf_counter() - start)
    start = time.perf_counter()
    ran = 0
    while (task := huey.dequeue()) is not None:
        huey.execute(task)
        ran += 1
    run_s = time.perf_counter() - start
    print(f"  huey SqliteHuey enqueue   {percentiles(queued)}")
    print(f"  huey dequeue + execute    {ran / run_s:7.0f} jobs/s ({ran} in {run_s:.1f} s)")


def bulk_figures(app, rows: int) -> None:
    fields = authoring.parse_fields(json.loads((TEMPLATE / "fields.json").read_text()))
    marketer = accounts.create_user("m@example.com", "Mara", "marketer", "a-long-enough-password", None)
    manager = accounts.create_user("mgr@example.com", "Dana", "manager", "a-long-enough-password", None)
    asset = assets.save_asset(assets.AssetData(title="ROI summary", kind="one_pager", body="ROI",
                                               status="published"), marketer)
    authoring.save_template(asset, (TEMPLATE / "template.html").read_text(), (TEMPLATE / "template.css").read_text(),
                            fields, marketer)
    example = authoring.defaults(fields)
    names = [f.name for f in fields if f.type != "image"]
    header = ",".join(names)
    lines = [",".join(f"Account {n}" if f == names[0] else str(example.get(f, "")).replace(",", " ") for f in names)
             for n in range(rows)]
    csv_bytes = ("\n".join([header, *lines]) + "\n").encode()
    mapping = {name: name for name in names}

    upload = bulk.stash(manager, csv_bytes)
    start = time.perf_counter()
    made = [r for r in bulk.generate_many(manager, asset, upload, mapping) if r.document]
    in_request_s = time.perf_counter() - start

    env = {**os.environ, "FLASK_APP": "app", "BRIDGE_DATA_DIR": str(app.config["DATA_DIR"]),
           "BRIDGE_FILES_DIR": str(app.config["FILES_DIR"]),
           "BRIDGE_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "BRIDGE_JOBS_POLL_S": "0.2"}
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "flask", "jobs", "work"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        first = wait_done(bulk.start(manager, asset, bulk.stash(manager, csv_bytes.split(b"\n", 2)[0] + b"\n"
                                                               + csv_bytes.split(b"\n", 2)[1] + b"\n"), mapping))
        cold_s = time.perf_counter() - start
        upload = bulk.stash(manager, csv_bytes)
        start = time.perf_counter()
        job = bulk.start(manager, asset, upload, mapping)
        enqueue_s = time.perf_counter() - start
        done = wait_done(job)
        job_s = time.perf_counter() - start
    finally:
        process.terminate()
        process.wait(30)
    assert first.state == "done" and done.state == "done", done.error
    assert len(done.result["documents"]) == len(made) == rows
    print(f"  in the request (generate_many)   {rows / in_request_s:5.2f} PDFs/s ({in_request_s:.1f} s)")
    print(f"  through the job worker           {rows / job_s:5.2f} PDFs/s ({job_s:.1f} s from the enqueue "
          f"({enqueue_s * 1000:.0f} ms) to the end)   ratio {in_request_s / job_s:.2f}")
    print(f"  a new worker's first 1-row job   {cold_s:5.1f} s (the worker's start and its render child's)")


def wait_done(job: Job) -> Job:
    while True:
        db.session.expire_all()
        found = db.session.get(Job, job.id)
        if found.state in ("done", "failed"):
            return found
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enqueues", type=int, default=300)
    parser.add_argument("--rows", type=int, default=60)
    parser.add_argument("--huey", default="", help="a directory holding the huey package (optional)")
    args = parser.parse_args()
    kinds = ["sqlite"] + (["postgresql"] if databases.SERVER else [])
    for kind in kinds:
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp)
            url = f"sqlite:///{data / 'bridge.db'}" if kind == "sqlite" else databases.create(data)
            app = create_app({"DATA_DIR": data, "FILES_DIR": data / "files", "SQLALCHEMY_DATABASE_URI": url,
                              "OFFICE_PREVIEWS": False})
            with app.app_context():
                upgrade()
                search.rebuild()  # an empty index, as a running site has (else the first write queues a rebuild)
                print(f"{kind}: {args.enqueues} enqueues")
                enqueue_figures(args.enqueues)
                if kind == "sqlite" and args.huey:
                    huey_figures(args.huey, args.enqueues, data)
                print(f"{kind}: bulk customize, {args.rows} rows")
                bulk_figures(app, args.rows)
                for engine in ("usage_log", "pdf_renderer", "page_renderer"):
                    app.extensions[engine].close()
                db.session.remove()
                db.engine.dispose()
            if kind != "sqlite":
                databases.drop(data)


if __name__ == "__main__":
    main()
