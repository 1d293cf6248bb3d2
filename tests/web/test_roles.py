"""The role matrix: every route, walked anonymously and as each role."""
import pytest

from app.documents import authoring
from app.library import flags
from app.models import Role, Team
from tests.conftest import login, post_form

PUBLIC = {"auth.login", "errors.healthz", "errors.favicon", "static",
          "share.view", "share.page", "share.seen", "share.download",  # prospects' share links: by token
          "share.logo",  # the company's logo on those links
          "rooms.view", "rooms.item", "rooms.page", "rooms.seen", "rooms.download",  # buyers' deal rooms: by token
          "api.openapi_document",  # the API's contract, no data
          "notifications.unsubscribe"}  # one-click unsubscribe: the signed token is the credential
ANY_LOGGED_IN = {"auth.logout"}


def route_table(app):
    """(endpoint, method, rule) for every route of the app."""
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, rule


def build(rule, ids) -> str:
    values = {arg: ids[arg] for arg in rule.arguments}
    return rule.build(values)[1]


@pytest.fixture
def world(app, make_user, make_asset):
    """One asset, one of each role, and ids to fill every URL."""
    asset = make_asset()
    users = {role: make_user(role.value) for role in Role}
    team = app.extensions["sqlalchemy"].session.query(Team).first()
    flag = flags.raise_flag(users[Role.REP], asset, "outdated")
    authoring.save_template(asset, "<h1>{{ customer }}</h1>", "",
                                authoring.parse_fields([{"name": "customer", "default": "Acme"}]),
                                users[Role.MARKETER])
    return {
        "users": users,
        "ids": {"asset_id": asset.id, "number": 1, "user_id": users[Role.REP].id, "team_id": team.id,
                "token_id": 999, "vocabulary": "term", "term_id": 1, "action": "up", "dimension_id": 1,
                "synonym_id": 999, "change_id": 999,
                "filename": "app.css", "flag_id": flag.id, "document_id": 999, "link_id": 999,
                "token": "no-such-token", "collection_id": 999, "opportunity_id": 999, "play_id": 999,
                "external_id": "no-such-deal", "room_id": 999, "item_id": 999, "job_id": 999},
    }


def request(client, method, url):
    if method == "GET":
        return client.get(url)
    if method == "PUT":  # the API's upsert: JSON, no CSRF token
        return client.put(url, json={})
    return post_form(client, url, {})


def test_anonymous_visitors_only_reach_public_pages(app, world):
    client = app.test_client()
    for endpoint, method, rule in route_table(app):
        if endpoint in PUBLIC:
            continue
        url = build(rule, world["ids"])
        response = request(client, method, url)
        if url.startswith("/api/"):
            assert response.status_code == 401, url
        else:
            assert response.status_code == 302, (method, url, response.status_code)
            assert response.headers["Location"].startswith("/login"), url


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_each_role_reaches_exactly_its_routes(app, world, role):
    user = world["users"][role]
    client = app.test_client()
    assert login(client, user.email).status_code == 302
    checked = 0
    for endpoint, method, rule in route_table(app):
        if endpoint in PUBLIC or endpoint in ANY_LOGGED_IN:
            continue
        view = app.view_functions[endpoint]
        allowed = getattr(view, "allowed_roles", None)
        assert allowed is not None, f"{endpoint} does not declare its roles"
        url = build(rule, world["ids"])
        response = request(client, method, url)
        if role in allowed:
            status = response.status_code
            assert status not in (401, 403) and status < 500, (method, url, status)
        else:
            assert response.status_code == 403, (method, url, response.status_code)
        checked += 1
    assert checked > 20


def test_rep_never_reaches_marketer_or_admin_pages(client, login_as, make_asset):
    asset = make_asset()
    login_as("rep")
    for url in ("/manage/", "/manage/new", f"/manage/{asset.id}/edit", "/admin/users", "/admin/teams",
                "/admin/taxonomy"):
        assert client.get(url).status_code == 403, url
    assert post_form(client, f"/manage/{asset.id}/delete").status_code == 403
    assert client.get(f"/assets/{asset.id}").status_code == 200
