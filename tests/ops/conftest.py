"""Tests that need a PostgreSQL server (`@pytest.mark.postgresql`: several app servers on one
database) are deselected, not skipped, when the run has none (SQLite): they run on PostgreSQL."""
from __future__ import annotations

from tests import databases


def pytest_collection_modifyitems(config, items):
    if databases.KIND == "postgresql":
        return
    absent = [i for i in items if i.get_closest_marker("postgresql")]
    if absent:
        config.hook.pytest_deselected(items=absent)
        items[:] = [i for i in items if i not in absent]
