"""Test world: a real database per test (a SQLite file, or a PostgreSQL database when the run has a
server: see tests/databases.py), copied from a template built by the migrations; files in a temp
dir; factories for users and assets."""
from __future__ import annotations

import os
import re
import time
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask.testing import FlaskClient

os.environ.setdefault("BRIDGE_SECRET_KEY", "test-secret-key")

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.library import taxonomy  # noqa: E402
from app.web import ratelimit  # noqa: E402

from . import databases, samples  # noqa: E402
from .factories import PASSWORD, new_asset, new_user  # noqa: E402

ROOT_DIR = Path(__file__).resolve().parent.parent
INDUSTRIES = ["Healthcare", "Retail", "Manufacturing"]
STAGES = ["Awareness", "Consideration", "Decision"]


def app_config(data_dir: Path, **overrides) -> dict:
    """Settings for an app whose data (and database) belong to `data_dir`; an empty database is
    made for it on PostgreSQL if it has none yet (a SQLite file appears by itself)."""
    if databases.SERVER and "SQLALCHEMY_DATABASE_URI" not in overrides and not databases.exists(data_dir):
        databases.create(data_dir)
    config = {
        "TESTING": True,
        "DATA_DIR": data_dir,
        "FILES_DIR": data_dir / "files",
        "SQLALCHEMY_DATABASE_URI": databases.url(data_dir),
        "EXTRACT_TIMEOUT_S": 20.0,
        # A conversion takes seconds: tests that want decks' and documents' pages turn it on
        # (tests/files/test_previews.py, the kit and viewer journeys); the others get the note.
        "OFFICE_PREVIEWS": False,
        # Jobs run inside the request that queues them; tests/jobs/ runs real workers.
        "JOBS_EAGER": True,
        "JOBS_SCHEDULE_S": 0,  # no digests queued behind a test's back (tests/jobs/test_schedule.py turns it on)
        # Every test makes users and logs them in: scrypt's 0.1 s of CPU each was a large part of the
        # suite. A salted PBKDF2 of few rounds checks the same code; test_login_fairness uses scrypt.
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    }
    config.update(overrides)
    return config


class IsolatedClient(FlaskClient):
    """Runs each request in its own app context, as a real server does.

    Without this, requests would share the test's app context, and so `g` (where Flask-Login
    and Flask-WTF cache the user and the CSRF token) and the database session, between
    browsers. After each request the usage log is flushed (a server does it within
    USAGE_FLUSH_MS) and the test's own session is expired so it reads fresh rows.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        self.application.extensions["usage_log"].flush()
        db.session.expire_all()
        return response


def pytest_collection_modifyitems(config, items):
    """Browser journeys run once, in the SQLite run (`make run`'s database, where a new rep first meets
    Bridge): they test what the page does in Chromium, and every service they reach is tested on both
    databases. So do the engines' own tests that use no database (`no_database`). In the PostgreSQL run
    they are deselected, not skipped (the suite fits its time budget)."""
    if databases.KIND == "postgresql":
        run_once = [i for i in items if "browser" in getattr(i, "fixturenames", ())
                    or i.get_closest_marker("no_database")]
        if run_once:
            config.hook.pytest_deselected(items=run_once)
            items[:] = [i for i in items if i not in run_once]


@pytest.fixture(autouse=True)
def steady_rate_limit_clock(monkeypatch):
    """Rate limits count in fixed windows (a minute, 15 minutes): a test that straddled a window's end
    on a busy machine would see its counts start again. Within a test, the limits' clock stands still."""
    now = time.time()
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: now))


@pytest.fixture(scope="session")
def template_db(tmp_path_factory) -> Path:
    """The data directory of an empty database built once per worker by `flask db upgrade`."""
    from flask_migrate import upgrade

    data_dir = tmp_path_factory.mktemp("template")
    app = create_app(app_config(data_dir))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    databases.mark_empty_template(data_dir)
    yield data_dir
    databases.drop_spares()
    databases.drop(data_dir)


@pytest.fixture
def db_template(template_db) -> Path:
    """The data directory whose database each test's is copied from: the empty one unless a module
    seeds a world of its own once (tests/insights/test_figures.py, tests/ops/test_demo.py)."""
    return template_db


@contextmanager
def site(data_dir: Path, template: Path, **overrides):
    """An app whose database is a copy of `template`'s and whose files live in `data_dir`, inside
    its app context; its database stays when it closes (the caller drops it)."""
    databases.create(data_dir, template)
    application = create_app(app_config(data_dir, **overrides))
    application.test_client_class = IsolatedClient
    with application.app_context():
        taxonomy.ensure_dimension("Industry", INDUSTRIES)
        taxonomy.ensure_stages(STAGES)
        yield application
        application.extensions["usage_log"].close()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app(tmp_path, db_template, request):
    """A fresh app on its own database (a copy of the template) and file store."""
    with site(tmp_path, db_template, **(getattr(request, "param", {}) or {})) as application:
        yield application
    databases.drop(tmp_path)


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_token(client, path: str = "/login") -> str:
    """The CSRF token of the client's session, read from a page's meta tag as a browser would."""
    html = client.get(path, follow_redirects=True).get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def post_form(client, url: str, data: dict | None = None, **kwargs):
    """POST a form with the session's CSRF token, like the page's own form would."""
    data = dict(data or {})
    data.setdefault("csrf_token", csrf_token(client))
    return client.post(url, data=data, **kwargs)


def login(client, email: str, password: str = PASSWORD):
    return post_form(client, "/login", {"email": email, "password": password})


@pytest.fixture
def make_user(app):
    counter = iter(range(1, 10_000))

    def make(role: str = "rep", email: str | None = None, team: str | None = "Team East",
             password: str = PASSWORD, name: str | None = None):
        n = next(counter)
        return new_user(email or f"{role}{n}@example.com", role, team, password, name or f"{role.title()} {n}")

    return make


@pytest.fixture
def login_as(client, make_user):
    """Log the test client in as a new user of `role`; returns the user."""

    def do(role: str = "rep", **kwargs):
        user = make_user(role, **kwargs)
        response = login(client, user.email)
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    return do


@pytest.fixture
def make_asset(app, make_user):
    owner = {}

    def make(title: str = "Retail ROI one-pager", **kwargs):
        if "user" not in owner:
            owner["user"] = make_user("marketer", team="Marketing")
        return new_asset(owner["user"], title, **kwargs)

    return make


@pytest.fixture
def sample_files(tmp_path) -> samples.SampleFiles:
    return samples.SampleFiles(tmp_path / "samples")


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, once per test process (tests/journeys.py)."""
    from playwright.sync_api import sync_playwright

    from tests.journeys import CHROMIUM

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def live(app) -> str:
    """The app served over HTTP on a free loopback port, as a browser sees it."""
    from tests.journeys import LiveServer

    server = LiveServer(app)
    yield server.base
    server.stop()


@pytest.fixture
def journey(browser, live, request):
    """Browser contexts for one test, with numbered screenshots under test-output/<test name>/."""
    from tests.journeys import Journey

    trip = Journey(browser, live, ROOT_DIR / "test-output" / re.sub(r"[^\w.-]+", "-", request.node.name))
    yield trip
    trip.close()


@pytest.fixture
def smtp(app):
    """A real SMTP server on localhost the app sends its mail to; `smtp.mailbox` holds what arrived."""
    from .mailbox import SmtpServer

    with SmtpServer() as server:
        app.config["SMTP_URL"] = server.url
        app.config["MAIL_FROM"] = "bridge@lumenfold.test"
        yield server
