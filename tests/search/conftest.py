"""The search suite runs on every backend the database offers: Whoosh everywhere, PostgreSQL's own
search too when the tests run on PostgreSQL. A test that is about one backend's machinery (Whoosh's
segments, its schema version) says so with `@pytest.mark.backends("whoosh")`."""
from __future__ import annotations

import pytest

from tests import databases
from tests.conftest import site

BACKENDS = ("whoosh", "postgres") if databases.KIND == "postgresql" else ("whoosh",)


ABSENT = "absent"  # a test of a backend this database does not offer: deselected, not skipped


def pytest_generate_tests(metafunc):
    if "search_backend" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("backends")
        chosen = [b for b in BACKENDS if marker is None or b in marker.args]
        metafunc.parametrize("search_backend", chosen or [ABSENT])


def pytest_collection_modifyitems(config, items):
    """Leave out the tests of the PostgreSQL backend on SQLite (they run on PostgreSQL)."""
    absent = [i for i in items if getattr(i, "callspec", None) and i.callspec.params.get("search_backend") == ABSENT]
    if absent:
        config.hook.pytest_deselected(items=absent)
        items[:] = [i for i in items if i not in absent]


@pytest.fixture
def app(tmp_path, db_template, search_backend, request):
    """A fresh app on its own database and file store, searching with `search_backend`."""
    overrides = {"SEARCH_BACKEND": search_backend, **(getattr(request, "param", {}) or {})}
    with site(tmp_path, db_template, **overrides) as application:
        yield application
    databases.drop(tmp_path)
