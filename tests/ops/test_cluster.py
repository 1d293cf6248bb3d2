"""Two machines, simulated: two app servers (each gunicorn with its own data directory and port) on
one PostgreSQL database and one shared files directory, searching with the PostgreSQL backend.

What one node does, the other sees at once: a publication is found by search, an upload downloads
with the same bytes, a share link opens, a login limit holds, a session and its CSRF token are
good on both (as behind a load balancer, the browser's cookies go to either). Neither node keeps
anything the other needs on its own disk. The cluster starts once for the module.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from app import create_app
from app.extensions import db
from app.library import taxonomy
from tests import databases, samples
from tests.conftest import INDUSTRIES, PASSWORD, ROOT_DIR, STAGES, app_config
from tests.factories import new_user

pytestmark = pytest.mark.postgresql  # deselected on SQLite (tests/ops/conftest.py)

SECRET = "one-secret-for-every-node"
MAX_FAILURES = 3
YEAR_S = 365 * 86400  # the login limit's window: a fixed window, so one that cannot end during the test
PR_SET_PDEATHSIG = 1


@dataclass
class Node:
    name: str
    base: str
    data_dir: Path
    process: subprocess.Popen
    log: Path


@dataclass
class Cluster:
    a: Node
    b: Node
    files_dir: Path
    marketer: str
    rep: str
    guarded: str
    term_id: int
    stage_id: int
    upload: Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def die_with_test() -> None:
    """In the child before exec: a gunicorn master whose test process died gets SIGTERM."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def start_node(name: str, root: Path, files_dir: Path, database_url: str) -> Node:
    """gunicorn with one web worker and no job worker (what a worker runs is tests/jobs' business):
    the fewer interpreters start, the sooner the module runs."""
    data_dir, port = root / f"node-{name}", free_port()
    data_dir.mkdir()
    env = {**os.environ, "FLASK_APP": "app", "BRIDGE_DATA_DIR": str(data_dir), "BRIDGE_FILES_DIR": str(files_dir),
           "BRIDGE_DATABASE_URL": database_url, "BRIDGE_SEARCH_BACKEND": "postgres", "BRIDGE_SECRET_KEY": SECRET,
           "BRIDGE_BIND": f"127.0.0.1:{port}", "BRIDGE_WORKERS": "1", "BRIDGE_JOB_WORKERS": "0",
           "BRIDGE_LOGIN_MAX_FAILURES": str(MAX_FAILURES), "BRIDGE_LOGIN_WINDOW_S": str(YEAR_S),
           "BRIDGE_OFFICE_PREVIEWS": "0"}
    log = root / f"node-{name}.log"
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "python:app.gunicorn_conf", "app.wsgi:app"],
                                   cwd=ROOT_DIR, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   preexec_fn=die_with_test)
    return Node(name, f"http://127.0.0.1:{port}", data_dir, process, log)


def wait_until_up(*nodes: Node) -> None:
    deadline = time.monotonic() + 120  # a start-up bound only: a busy machine starts slowly
    waiting = list(nodes)
    while waiting and time.monotonic() < deadline:
        for node in list(waiting):
            if node.process.poll() is not None:
                raise AssertionError(f"node {node.name} exited: {node.log.read_text()[-3000:]}")
            try:
                if requests.get(f"{node.base}/healthz", timeout=5).status_code == 200:
                    waiting.remove(node)
            except requests.RequestException:
                pass
        time.sleep(0.1)
    assert not waiting, f"nodes {[n.name for n in waiting]} did not answer within 120 s"


def stop(*nodes: Node) -> None:
    for node in nodes:
        if node.process.poll() is None:
            node.process.send_signal(signal.SIGTERM)
    for node in nodes:
        try:
            node.process.wait(30)
        except subprocess.TimeoutExpired:
            node.process.kill()
            node.process.wait()


def seed_world(world: Path, files_dir: Path, samples_dir: Path) -> dict:
    """Taxonomy and three people in the shared database, written by the test's own app (as a `flask`
    command on any machine would), while the nodes start."""
    app = create_app(app_config(world, FILES_DIR=files_dir, SEARCH_BACKEND="postgres"))
    with app.app_context():
        taxonomy.ensure_dimension("Industry", INDUSTRIES)
        taxonomy.ensure_stages(STAGES)
        term = taxonomy.terms_by_name(["Retail"])[0][0]
        stage = taxonomy.stages_by_name(["Decision"])[0][0]
        people = {role: new_user(f"{role}@cluster.example", "marketer" if role == "marketer" else "rep",
                                 "Marketing" if role == "marketer" else "Team East", PASSWORD, role.title()).email
                  for role in ("marketer", "rep", "guarded")}
        people.update(term_id=term.id, stage_id=stage.id)
        app.extensions["usage_log"].close()
        db.session.remove()
        db.engine.dispose()
    upload = samples.SampleFiles(samples_dir).pdf("quasarflux.pdf", pages=["Quasarflux cooling for retail floors"])
    return {**people, "upload": upload}


@pytest.fixture(scope="module")
def cluster(template_db, tmp_path_factory):
    root = tmp_path_factory.mktemp("cluster")
    files_dir, world = root / "shared-files", root / "database"
    world.mkdir()
    database_url = databases.create(world, template_db)
    nodes: list[Node] = []
    try:
        nodes = [start_node(name, root, files_dir, database_url) for name in ("a", "b")]
        seeded = seed_world(world, files_dir, root / "samples")
        wait_until_up(*nodes)
        yield Cluster(*nodes, files_dir=files_dir, **seeded)
    finally:
        stop(*nodes)
        databases.drop(world)
    for node in nodes:
        log = node.log.read_text()
        assert "Traceback" not in log, f"node {node.name}: {log[-3000:]}"


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def log_in(base: str, email: str, password: str = PASSWORD) -> tuple[requests.Session, requests.Response]:
    browser = requests.Session()
    token = csrf_of(browser.get(f"{base}/login").text)
    answer = browser.post(f"{base}/login", data={"email": email, "password": password, "csrf_token": token},
                          allow_redirects=False)
    return browser, answer


@pytest.fixture(scope="module")
def published(cluster):
    """A marketer publishes an asset with a PDF on node A; its id."""
    browser, answer = log_in(cluster.a.base, cluster.marketer)
    assert answer.status_code == 302
    token = csrf_of(browser.get(f"{cluster.a.base}/manage/new").text)
    form = {"csrf_token": token, "title": "Quasarflux cooling one-pager", "kind": "one_pager",
            "description": "Cooling retail floors", "product": "Flow", "tags": "cooling",
            "terms": [str(cluster.term_id)], "stages": [str(cluster.stage_id)], "status": "published", "body": ""}
    with cluster.upload.open("rb") as handle:
        answer = browser.post(f"{cluster.a.base}/manage/new", data=form,
                              files={"file": ("quasarflux.pdf", handle, "application/pdf")}, allow_redirects=False)
    assert answer.status_code == 302, answer.text[-2000:]
    return int(re.search(r"/assets/(\d+)$", answer.headers["Location"]).group(1))


def test_asset_published_on_a_is_found_by_search_on_b_at_once(cluster, published):
    rep, answer = log_in(cluster.b.base, cluster.rep)
    assert answer.status_code == 302
    page = rep.get(f"{cluster.b.base}/search", params={"q": "quasarflux"})
    assert page.status_code == 200
    assert "Quasarflux cooling one-pager" in page.text
    assert f"/assets/{published}" in page.text


def test_file_uploaded_on_a_downloads_on_b_with_the_same_bytes(cluster, published):
    rep, _ = log_in(cluster.b.base, cluster.rep)
    download = rep.get(f"{cluster.b.base}/assets/{published}/download")
    assert download.status_code == 200
    assert download.content == cluster.upload.read_bytes()


def test_session_and_csrf_token_from_a_are_good_on_b(cluster, published):
    """Behind a load balancer a browser's requests land on either node."""
    rep, answer = log_in(cluster.a.base, cluster.rep)
    assert answer.status_code == 302
    page = rep.get(f"{cluster.b.base}/assets/{published}", allow_redirects=False)
    assert page.status_code == 200 and "Quasarflux cooling one-pager" in page.text
    token = csrf_of(rep.get(f"{cluster.a.base}/").text)
    out = rep.post(f"{cluster.b.base}/logout", data={"csrf_token": token})
    assert "You are logged out." in out.text
    assert rep.get(f"{cluster.a.base}/", allow_redirects=False).status_code == 302  # logged out on A too


def test_share_link_made_on_a_opens_on_b(cluster, published):
    rep, _ = log_in(cluster.a.base, cluster.rep)
    share_page = f"{cluster.a.base}/share/new?asset={published}"
    form = {"csrf_token": csrf_of(rep.get(share_page).text), "recipient_name": "Pat Prospect",
            "expires": "30", "allow_download": "y", "cta": "reply"}
    made = rep.post(share_page, data=form)
    assert made.status_code == 200 and "Link ready" in made.text
    token = re.search(r"/s/([A-Za-z0-9_-]{40,})", made.text).group(1)
    prospect = requests.Session()
    opened = prospect.get(f"{cluster.b.base}/s/{token}")
    assert opened.status_code == 200 and "Quasarflux cooling one-pager" in opened.text
    assert prospect.get(f"{cluster.b.base}/s/{token}/download").content == cluster.upload.read_bytes()


def test_login_limit_reached_on_a_holds_on_b(cluster):
    for _ in range(MAX_FAILURES):
        _, wrong = log_in(cluster.a.base, cluster.guarded, "not-the-password")
        assert wrong.status_code == 200 and "Email or password is wrong" in wrong.text
    _, right = log_in(cluster.b.base, cluster.guarded)
    assert right.status_code == 429


def test_no_node_keeps_the_library_on_its_own_disk(cluster, published):
    """The upload's bytes are in the shared files directory and in neither data directory; no
    search index either: losing a node's disk loses nothing but caches."""
    digest = hashlib.sha256(cluster.upload.read_bytes()).hexdigest()

    def holders(root: Path) -> list[Path]:
        return [p for p in root.rglob("*") if p.is_file() and hashlib.sha256(p.read_bytes()).hexdigest() == digest]

    assert len(holders(cluster.files_dir)) == 1
    for node in (cluster.a, cluster.b):
        assert holders(node.data_dir) == []
        assert not (node.data_dir / "search-index").exists()
