"""Production serving: gunicorn with 3 workers under concurrent reps and marketers.

Each rep searches, opens and downloads a fixed number of times while marketers edit and upload a
fixed number of times, all at once; afterwards no request got an error (4xx or 5xx), the usage log
holds exactly the events the clients caused, every upload is an asset, the search index matches the
database (`flask search check`), no worker logged a LockError or a traceback, and the login limit
holds across workers. Nothing here is timed: a slow machine only makes it take longer.
"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import requests
from sqlalchemy import func, select

from app.extensions import db
from app.models import Asset, UsageEvent

from .conftest import PASSWORD, ROOT_DIR

WORKERS = 3
REP_ROUNDS = 12      # each: a search and an asset page, a download every third round
MARKETER_ROUNDS = 6  # each: an edit, an upload every second round
WORDS = ["roi", "hospital", "retail", "security", "onboarding", "pricing", "case", "study"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(app, port: int) -> dict:
    return {**os.environ, "BRIDGE_DATA_DIR": str(app.config["DATA_DIR"]),
            "BRIDGE_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "BRIDGE_SECRET_KEY": app.config["SECRET_KEY"], "BRIDGE_BIND": f"127.0.0.1:{port}",
            "BRIDGE_WORKERS": str(WORKERS), "FLASK_APP": "app",
            "BRIDGE_JOBS_SCHEDULE_S": "0"}  # no scan or digest jobs queued behind the test's back


def wait_until_up(base: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 180  # a start-up bound, not a speed test: a busy machine starts slowly
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited: {log.read_text()[-3000:]}")
        try:
            if requests.get(f"{base}/healthz", timeout=10).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.2)
    raise AssertionError("gunicorn did not answer within 180 s")


def logged_in(base: str, email: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    answer = session.post(f"{base}/login", data={"email": email, "password": PASSWORD, "csrf_token": token},
                          allow_redirects=False)
    assert answer.status_code == 302, answer.text
    session.csrf = token
    return session


class Tally:
    """What the clients did and saw, shared by their threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.statuses: Counter = Counter()
        self.events: Counter = Counter()   # usage events each successful request must have logged
        self.failures: list[str] = []

    def record(self, method: str, url: str, response: requests.Response, event: str | None = None) -> None:
        with self.lock:
            self.statuses[response.status_code // 100 * 100] += 1
            if response.status_code >= 400:
                self.failures.append(f"{method} {url} → {response.status_code}")
            elif event and response.status_code == 200:
                self.events[event] += 1


def rep_loop(base: str, email: str, asset_ids: list[int], tally: Tally, seed: int) -> None:
    session = logged_in(base, email)
    for n in range(seed + 1, seed + 1 + REP_ROUNDS):
        word = WORDS[n % len(WORDS)]
        url = f"{base}/search?q={word}"
        tally.record("GET", url, session.get(url), "search")
        asset_id = asset_ids[n % len(asset_ids)]
        url = f"{base}/assets/{asset_id}"
        tally.record("GET", url, session.get(url), "view")
        if n % 3 == 0:
            url = f"{base}/assets/{asset_id}/download"
            tally.record("GET", url, session.get(url), "download")


def marketer_loop(base: str, email: str, asset_ids: list[int], term_id: int, stage_id: int, upload: Path,
                  tally: Tally, seed: int) -> None:
    session = logged_in(base, email)
    for n in range(seed + 1, seed + 1 + MARKETER_ROUNDS):
        asset_id = asset_ids[n % len(asset_ids)]
        form = {"csrf_token": session.csrf, "title": f"Edited one-pager {seed}-{n}", "kind": "one_pager",
                "description": f"Edit {n} for retail buyers", "product": "Flow", "tags": "roi, retail",
                "terms": [str(term_id)], "stages": [str(stage_id)], "status": "published",
                "body": f"Talk track revision {n}"}
        url = f"{base}/manage/{asset_id}/edit"
        tally.record("POST", url, session.post(url, data=form, allow_redirects=False))
        if n % 2 == 0:
            new = {**form, "title": f"Uploaded brochure {seed}-{n}", "kind": "brochure", "body": ""}
            with upload.open("rb") as handle:
                url = f"{base}/manage/new"
                tally.record("POST", url, session.post(url, data=new, files={"file": ("brochure.pdf", handle)},
                                                       allow_redirects=False))


def test_three_gunicorn_workers_under_concurrent_use(app, make_user, make_asset, sample_files, tmp_path):
    reps = [make_user("rep") for _ in range(4)]
    marketers = [make_user("marketer", team="Marketing") for _ in range(2)]
    library = [make_asset(f"{word.title()} one-pager", tags=[word], description=f"All about {word}",
                          upload=(sample_files.pdf(f"{word}.pdf", pages=[f"{word} in practice"]), f"{word}.pdf"))
               for word in WORDS]
    asset_ids = [a.id for a in library]
    term_id, stage_id = library[0].terms[0].id, library[0].stages[0].id
    upload = sample_files.pdf(pages=["Concurrent upload brochure"])
    rep_emails, marketer_emails = [r.email for r in reps], [m.email for m in marketers]
    app.extensions["usage_log"].flush()
    before = db.session.scalar(select(func.count()).select_from(UsageEvent))
    db.session.remove()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "gunicorn.log"
    with log.open("w") as out:
        server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "python:app.gunicorn_conf", "app.wsgi:app"],
                                  cwd=ROOT_DIR, env=server_env(app, port), stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_up(base, server, log)
        tally = Tally()
        threads = [threading.Thread(target=rep_loop, args=(base, email, asset_ids, tally, i))
                   for i, email in enumerate(rep_emails)]
        threads += [threading.Thread(target=marketer_loop, args=(base, email, asset_ids[i::2], term_id,
                                                                  stage_id, upload, tally, i))
                    for i, email in enumerate(marketer_emails)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(600)
        assert not any(t.is_alive() for t in threads), "a client is still waiting for an answer after 10 minutes"
        # Failed logins are counted in the database: sync workers take one request per connection,
        # so these attempts land on different workers, and the limit still holds.
        guesser = requests.Session()
        for _ in range(10):
            page = guesser.get(f"{base}/login").text
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
            wrong = guesser.post(f"{base}/login", data={"email": rep_emails[0], "password": "guess",
                                                        "csrf_token": token}, allow_redirects=False)
            assert wrong.status_code == 200
        locked_out = requests.Session()
        page = locked_out.get(f"{base}/login").text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        assert locked_out.post(f"{base}/login", data={"email": rep_emails[0], "password": PASSWORD,
                                                      "csrf_token": token}).status_code == 429
    finally:
        server.send_signal(signal.SIGTERM)  # graceful: each worker writes what its usage log holds
        server.wait(60)

    uploads_sent = len(marketers) * (MARKETER_ROUNDS // 2)
    downloads = sum(1 for seed in range(len(reps)) for n in range(seed + 1, seed + 1 + REP_ROUNDS) if n % 3 == 0)
    print(f"\n{sum(tally.statuses.values())} requests by {len(threads)} clients on {WORKERS} workers: "
          f"{dict(tally.statuses)}; events expected {dict(tally.events)}")
    assert tally.failures == []
    assert tally.statuses == {200: len(reps) * REP_ROUNDS * 2 + downloads,
                              300: len(marketers) * MARKETER_ROUNDS + uploads_sent}
    assert tally.events == {"search": len(reps) * REP_ROUNDS, "view": len(reps) * REP_ROUNDS, "download": downloads}

    recorded = Counter(dict(db.session.execute(
        select(UsageEvent.kind, func.count()).where(UsageEvent.id > before).group_by(UsageEvent.kind)).all()))
    print(f"events recorded {dict(recorded)}")
    assert recorded == tally.events

    uploads = db.session.scalar(select(func.count()).select_from(Asset).where(Asset.title.like("Uploaded brochure%")))
    assert uploads == uploads_sent
    db.session.remove()
    check = subprocess.run([sys.executable, "-m", "flask", "search", "check"], cwd=ROOT_DIR,
                           env=server_env(app, port), capture_output=True, text=True, timeout=120)
    print(check.stdout.strip())
    assert check.returncode == 0, check.stdout + check.stderr
    server_log = log.read_text()
    assert "LockError" not in server_log and "Traceback" not in server_log, server_log[-3000:]
