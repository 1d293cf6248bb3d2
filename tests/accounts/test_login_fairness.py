"""Guessing passwords is slowed for the guesser, never turned into a lock-out of the real users; the
time a login takes does not tell which emails have accounts; a new password ends the old API tokens."""
from __future__ import annotations

import statistics
import threading
import time

import pytest

from app.accounts import service as accounts
from app.extensions import db
from tests.conftest import login, post_form

OFFICE = {"REMOTE_ADDR": "203.0.113.9"}  # the attacker and the real users behind one address (a proxy, a NAT)


def browser(app):
    """A browser behind the office address."""
    client = app.test_client()
    client.environ_base.update(OFFICE)
    return client


def log_out(client):
    assert post_form(client, "/logout").status_code == 302


@pytest.mark.parametrize("app", [{"LOGIN_MAX_FAILURES": 3}], indirect=True)
def test_random_email_failures_from_one_address_do_not_lock_out_a_known_device(app, make_user):
    admin, rep = make_user("admin"), make_user("rep")
    admins_browser = browser(app)
    assert login(admins_browser, admin.email).status_code == 302  # the browser is now known to the account
    log_out(admins_browser)
    attacker = browser(app)
    answers = [login(attacker, f"guess{n}@example.com", "guess").status_code for n in range(45)]
    assert answers[:15] == [200] * 15 and set(answers[15:]) == {429}  # 3 × 5 failures, then the address waits
    assert login(admins_browser, admin.email).status_code == 302
    assert login(browser(app), rep.email).status_code == 429  # an unknown browser there waits with the attacker
    assert login(app.test_client(), rep.email).status_code == 302  # from anywhere else the rep gets in


@pytest.mark.parametrize("app", [{"LOGIN_MAX_FAILURES": 3}], indirect=True)
def test_guessing_one_account_locks_only_that_account_and_not_its_owners_browser(app, make_user):
    target, colleague = make_user("admin"), make_user("rep")
    owners_browser = browser(app)
    assert login(owners_browser, target.email).status_code == 302
    log_out(owners_browser)
    attacker = browser(app)
    for _ in range(3):
        assert login(attacker, target.email, "wrong-password").status_code == 200
    assert login(attacker, target.email).status_code == 429  # even the right password, from the attacker
    assert login(browser(app), colleague.email).status_code == 302  # other accounts, same address
    assert login(owners_browser, target.email).status_code == 302  # the owner's browser is counted apart


@pytest.mark.parametrize("app", [{"LOGIN_MAX_FAILURES": 3}], indirect=True)
def test_a_forged_or_foreign_device_cookie_counts_for_nothing(app, make_user):
    target, other = make_user("admin"), make_user("rep")
    others_browser = app.test_client()
    assert login(others_browser, other.email).status_code == 302  # a real device cookie, for another account
    log_out(others_browser)
    for _ in range(3):
        login(others_browser, target.email, "wrong-password")
    assert login(others_browser, target.email).status_code == 429
    forged = app.test_client()
    forged.set_cookie(accounts.DEVICE_COOKIE, "eyJkIjoieCIsImEiOltdfQ.forged.signature", path="/login")
    assert login(forged, target.email).status_code == 429


# Each thread may hold two connections at once (its session's, the count's): the pool has room for all
# of them, so no thread waits on another's connection (the default 5 + 10 once timed out under load).
@pytest.mark.parametrize("app", [{"LOGIN_MAX_FAILURES": 10,
                                  "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 30, "max_overflow": 0}}], indirect=True)
def test_concurrent_failures_let_exactly_the_limit_through(app, make_user):
    """Fourteen wrong passwords at once from one client against a limit of ten: ten are checked, the
    other four are refused (each attempt counted in the database by one upsert, on both databases)."""
    user = make_user("rep")
    attempts, outcomes = 14, []
    start = threading.Barrier(attempts)

    def attempt():
        with app.app_context():
            start.wait()
            result = accounts.log_in(user.email, "wrong-password", "198.51.100.1", None)
            outcomes.append("throttled" if result.throttled else "checked")
            db.session.remove()

    threads = [threading.Thread(target=attempt) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["checked"] * 10 + ["throttled"] * 4
    assert accounts.log_in(user.email, "correct-horse-battery", "198.51.100.1", None).throttled


@pytest.mark.parametrize("app", [{"LOGIN_MAX_FAILURES": 1000, "PASSWORD_HASH_METHOD": "scrypt"}], indirect=True)
def test_an_unknown_email_takes_as_long_as_a_wrong_password(app, make_user):
    """Medians of 30 tries each: the two paths both verify one password hash. (Before, an unknown
    email skipped the hash: 127 ms against 9 ms.) This compares two code paths, not a wall time."""
    user = make_user("rep")

    def median_ms(email: str) -> float:
        times = []
        for _ in range(30):
            began = time.perf_counter()
            assert accounts.log_in(email, "wrong-password", "198.51.100.2", None).user is None
            times.append(time.perf_counter() - began)
        return statistics.median(times) * 1000

    accounts.log_in(user.email, "warm-up", "198.51.100.2", None)  # the dummy hash is made once per process
    accounts.log_in("warm-up@example.com", "warm-up", "198.51.100.2", None)
    known, unknown = median_ms(user.email), median_ms("nobody@example.com")
    assert 0.5 <= unknown / known <= 2, (known, unknown)


def test_an_admins_password_reset_revokes_the_users_api_tokens(app, client, make_user):
    rep = make_user("rep")
    secret = accounts.issue_api_token(rep, "CRM sync")
    crm = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    assert crm.get("/api/v1/assets", headers=headers).status_code == 200
    admin = make_user("admin")
    login(client, admin.email)
    page = post_form(client, f"/admin/users/{rep.id}/password",
                     {"password": "a-new-password", "confirm": "a-new-password"}, follow_redirects=True)
    assert "their 1 API token revoked" in page.get_data(as_text=True)
    refused = crm.get("/api/v1/assets", headers=headers)
    assert refused.status_code == 401 and refused.get_json()["error"]["status"] == 401


def test_changing_my_password_revokes_my_api_tokens_and_keeps_me_logged_in(app, client, make_user):
    rep = make_user("rep")
    secret = accounts.issue_api_token(rep, "CRM sync")
    login(client, rep.email)
    wrong = post_form(client, "/profile/password", {"current": "not-it", "password": "a-new-password",
                                                    "confirm": "a-new-password"})
    assert wrong.status_code == 422 and "current password is not that one" in wrong.get_data(as_text=True)
    assert app.test_client().get("/api/v1/assets", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    page = post_form(client, "/profile/password", {"current": "correct-horse-battery", "password": "a-new-password",
                                                   "confirm": "a-new-password"}, follow_redirects=True)
    assert "your 1 API token was revoked" in page.get_data(as_text=True)
    assert client.get("/profile").status_code == 200
    assert app.test_client().get("/api/v1/assets", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert login(app.test_client(), rep.email, "a-new-password").status_code == 302
