"""A customizable one-pager, a logged-in manager, a bulk run started from its page, and real workers."""
from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time

import pypdf
import pytest

from app import search
from app.documents import authoring
from app.extensions import db
from app.models import Job
from tests.conftest import ROOT_DIR, login, post_form

HTML = "<h1>Lumenfold for {{ hospital_name }}</h1><p>Live bed capacity across {{ bed_count }} beds.</p>"
FIELDS = [{"name": "hospital_name", "label": "Hospital", "required": True},
          {"name": "bed_count", "label": "Number of beds"}]


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join((p.extract_text() or "").split()) for p in pypdf.PdfReader(io.BytesIO(data)).pages)


def accounts_csv(count: int) -> str:
    return "Hospital,Number of beds\n" + "".join(f"Hospital {n:03},{100 + n}\n" for n in range(1, count + 1))


@pytest.fixture(autouse=True)
def search_index(app):
    """An index, as a running site has: without one, the first write queues a rebuild job, which a
    worker told to run one job would take first."""
    search.rebuild()


@pytest.fixture
def one_pager(make_asset, make_user):
    asset = make_asset("Hospital one-pager", terms=["Healthcare"])
    authoring.save_template(asset, HTML, "", authoring.parse_fields(FIELDS), make_user("marketer"))
    return asset


@pytest.fixture
def manager(client, make_user):
    user = make_user("manager", name="Dana Brooks")
    login(client, user.email)
    return user


def start_bulk(client, asset, csv_text: str):
    """Upload the CSV, confirm the matched columns as the page offers them; the response to the confirm."""
    page = post_form(client, f"/assets/{asset.id}/bulk", {"accounts": (io.BytesIO(csv_text.encode()), "a.csv")},
                     content_type="multipart/form-data").get_data(as_text=True)
    token = re.search(r'name="upload" value="([0-9a-f]+)"', page).group(1)
    return post_form(client, f"/assets/{asset.id}/bulk",
                     {"upload": token, "map-hospital_name": "Hospital", "map-bed_count": "Number of beds"})


def job_id_of(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return int(re.search(r"/jobs/(\d+)$", response.headers["Location"]).group(1))


def fresh_job(job_id: int) -> Job:
    db.session.expire_all()
    return db.session.get(Job, job_id)


def wait_for(condition, what: str, deadline_s: float = 180.0):
    """Poll `condition()` until it is true (a deadline only so a broken worker cannot hang the run)."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if value := condition():
            return value
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


def start_worker(app, *args: str, lease_s: float = 2.0, pace_s: float = 0.0) -> subprocess.Popen:
    """`flask jobs work` in its own process on the test's database and files; with `pace_s`, one that
    pauses that long after each step of a job (tests/jobs/paced_worker.py), to be stopped halfway."""
    env = {**os.environ, "FLASK_APP": "app", "BRIDGE_DATA_DIR": str(app.config["DATA_DIR"]),
           "BRIDGE_FILES_DIR": str(app.config["FILES_DIR"]),
           "BRIDGE_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "BRIDGE_SECRET_KEY": app.config["SECRET_KEY"],
           "BRIDGE_JOBS_LEASE_S": str(lease_s), "BRIDGE_JOBS_POLL_S": "0.2", "BRIDGE_OFFICE_PREVIEWS": "0",
           "BRIDGE_JOBS_SCHEDULE_S": "0", "PACE_S": str(pace_s),
           "BRIDGE_SEARCH_BACKEND": app.config.get("SEARCH_BACKEND", "")}
    command = ["-m", "tests.jobs.paced_worker"] if pace_s else ["-m", "flask", "jobs", "work"]
    return subprocess.Popen([sys.executable, *command, *args], cwd=ROOT_DIR, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
