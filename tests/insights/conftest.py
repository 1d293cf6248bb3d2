"""Insights tests read the pages as a logged-in marketer."""
import pytest

from tests.conftest import login


@pytest.fixture
def marketer_client(app, make_user):
    client = app.test_client()
    assert login(client, make_user("marketer", team="Marketing").email).status_code == 302
    return client
