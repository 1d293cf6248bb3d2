"""Logging in and out, sessions and safe redirects."""
import pytest
from sqlalchemy import select

from app.accounts import service as accounts
from app.extensions import db
from app.models import User
from tests.conftest import PASSWORD, login, post_form


def test_user_logs_in_and_lands_on_home(client, make_user):
    user = make_user("rep", name="Riley Park")
    response = login(client, user.email)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "Riley Park" in client.get("/").get_data(as_text=True)


def test_email_is_case_insensitive(client, make_user):
    user = make_user("rep", email="Riley@Example.com")
    assert login(client, "RILEY@example.COM").status_code == 302
    assert user.email == "riley@example.com"


def test_wrong_password_is_refused_with_a_message(client, make_user):
    user = make_user("rep")
    response = login(client, user.email, "not-the-password")
    assert response.status_code == 200
    assert "Email or password is wrong" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_inactive_user_cannot_log_in(client, make_user):
    user = make_user("rep")
    accounts.update_user(user, name=user.name, role="rep", team_id=user.team_id, active=False)
    response = login(client, user.email)
    assert response.status_code == 200
    assert "deactivated" in response.get_data(as_text=True)


def test_password_is_stored_hashed(make_user):
    user = make_user("rep")
    stored = db.session.scalar(select(User.password_hash).where(User.id == user.id))
    assert PASSWORD not in stored and stored.startswith(("scrypt:", "pbkdf2:"))


def test_login_form_requires_csrf_token(client, make_user):
    user = make_user("rep")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_anonymous_user_is_sent_to_login_with_next(client):
    response = client.get("/browse?segment=1")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/browse")


def test_next_leads_inside_the_site(client, make_user):
    user = make_user("rep")
    response = post_form(client, "/login",
                         {"email": user.email, "password": PASSWORD, "next": "/browse?kind=brochure"})
    assert response.headers["Location"] == "/browse?kind=brochure"


@pytest.mark.parametrize("target", [
    "//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)",
    "http:/evil.example", "/\r\nLocation: https://evil.example",
])
def test_next_never_leaves_the_site(client, make_user, target):
    user = make_user("rep")
    response = post_form(client, "/login", {"email": user.email, "password": PASSWORD, "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_logout_kills_copies_of_the_session_cookie(app, make_user):
    user = make_user("rep")
    browser = app.test_client()
    login(browser, user.email)
    stolen = browser.get_cookie("session").value
    assert post_form(browser, "/logout").status_code == 302
    assert browser.get("/").status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    assert replay.get("/").status_code == 302
