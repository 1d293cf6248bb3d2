"""The search suite runs on every backend the database offers: Whoosh everywhere, PostgreSQL's own
search too when the tests run on PostgreSQL. A test that is about one backend's machinery (Whoosh's
segments, its schema version) says so with `@pytest.mark.backends("whoosh")`."""
from __future__ import annotations

import pytest

from tests import databases
from tests.conftest import site

BACKENDS = ("whoosh", "postgres") if databases.KIND == "postgresql" else ("whoosh",)


def pytest_generate_tests(metafunc):
    if "search_backend" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("backends")
        chosen = [b for b in BACKENDS if marker is None or b in marker.args]
        metafunc.parametrize("search_backend", chosen)


@pytest.fixture
def app(tmp_path, db_template, search_backend, request):
    """A fresh app on its own database and file store, searching with `search_backend`."""
    overrides = {"SEARCH_BACKEND": search_backend, **(getattr(request, "param", {}) or {})}
    with site(tmp_path, db_template, **overrides) as application:
        yield application
    databases.drop(tmp_path)
