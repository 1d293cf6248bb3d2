"""Admins manage users, teams and the taxonomy."""
from sqlalchemy import select, update

from app import usage
from app.accounts import service as accounts
from app.extensions import db
from app.models import Dimension, Stage, Team, Term, UsageEvent, utcnow
from tests.conftest import login, post_form


def test_admin_creates_a_user_who_can_log_in(app, client, login_as):
    login_as("admin")
    team = db.session.scalar(select(Team))
    response = post_form(client, "/admin/users", {"name": "New Rep", "email": "new.rep@example.com",
                                                  "role": "rep", "team_id": team.id, "password": "s3cret-pass"})
    assert response.status_code == 302
    assert "New Rep can now log in" in client.get("/admin/users").get_data(as_text=True)
    assert login(app.test_client(), "new.rep@example.com", "s3cret-pass").status_code == 302


def test_duplicate_email_is_refused(client, login_as, make_user):
    existing = make_user("rep")
    login_as("admin")
    response = post_form(client, "/admin/users", {"name": "Again", "email": existing.email, "role": "rep",
                                                  "team_id": 0, "password": "s3cret-pass"})
    assert response.status_code == 400 and "already exists" in response.get_data(as_text=True)


def test_deactivated_user_is_logged_out_and_cannot_log_back_in(app, client, login_as, make_user):
    rep = make_user("rep")
    rep_browser = app.test_client()
    login(rep_browser, rep.email)
    assert rep_browser.get("/").status_code == 200
    login_as("admin")
    post_form(client, f"/admin/users/{rep.id}", {"name": rep.name, "role": "rep", "team_id": 0})
    db.session.refresh(rep)
    assert rep.active is False and rep.team_id is None
    assert rep_browser.get("/").status_code == 302
    assert "deactivated" in login(app.test_client(), rep.email).get_data(as_text=True)


def test_admin_changes_role_and_resets_password(app, client, login_as, make_user):
    rep = make_user("rep")
    login_as("admin")
    post_form(client, f"/admin/users/{rep.id}", {"name": "Promoted", "role": "manager", "team_id": 0, "active": "y"})
    post_form(client, f"/admin/users/{rep.id}/password", {"password": "brand-new-pass", "confirm": "brand-new-pass"})
    db.session.refresh(rep)
    assert (rep.name, rep.role, rep.active) == ("Promoted", "manager", True)
    assert login(app.test_client(), rep.email).status_code == 200  # old password refused
    assert login(app.test_client(), rep.email, "brand-new-pass").status_code == 302


def test_teams_are_created_and_renamed_uniquely(client, login_as):
    login_as("admin")
    post_form(client, "/admin/teams", {"name": "Team North"})
    team = db.session.scalar(select(Team).where(Team.name == "Team North"))
    renamed = post_form(client, f"/admin/teams/{team.id}", {"name": "Team Nord"}, follow_redirects=True)
    assert "Team “Team North” renamed to “Team Nord”." in renamed.get_data(as_text=True)
    empty = post_form(client, f"/admin/teams/{team.id}", {"name": ""}, follow_redirects=True)
    assert "Team “Team Nord” was not renamed: give a name of 1 to 80 characters." in empty.get_data(as_text=True)
    db.session.refresh(team)
    assert team.name == "Team Nord"
    page = post_form(client, "/admin/teams", {"name": "team nord"}).get_data(as_text=True)
    assert "already exists" in page


def test_a_team_made_by_mistake_is_deleted_and_one_with_members_or_history_is_kept(client, login_as, make_user):
    login_as("admin")
    for name in ("Team Trial", "Team Empty but used"):
        post_form(client, "/admin/teams", {"name": name})
    teams = {t.name: t for t in db.session.scalars(select(Team))}
    staffed = make_user("rep", team="Team West")
    used = teams["Team Empty but used"]
    usage.record([usage.event_row("view", user=staffed, at=utcnow())])
    db.session.execute(update(UsageEvent).values(team_id=used.id))  # its one member has moved on since
    db.session.commit()
    page = client.get("/admin/teams").get_data(as_text=True)
    assert 'aria-label="Delete team “Team Trial”"' in page and 'aria-label="Delete team “Team West”"' not in page
    done = post_form(client, f"/admin/teams/{teams['Team Trial'].id}/delete", follow_redirects=True)
    assert "Team “Team Trial” deleted." in done.get_data(as_text=True)
    refused = post_form(client, f"/admin/teams/{staffed.team_id}/delete", follow_redirects=True)
    assert "has members: move them to another team first" in refused.get_data(as_text=True)
    kept = post_form(client, f"/admin/teams/{used.id}/delete", follow_redirects=True)
    assert "has a history in the usage log: rename it instead" in kept.get_data(as_text=True)
    assert {t.name for t in db.session.scalars(select(Team))} == {"Team East", "Team West", "Team Empty but used"}


def test_taxonomy_add_rename_reorder_and_guarded_delete(client, login_as, make_asset):
    make_asset(terms=["Retail"], stages=["Decision"])
    login_as("admin")
    post_form(client, "/admin/taxonomy/stage", {"name": "Onboarding"})
    stages = lambda: [s.name for s in db.session.scalars(select(Stage).order_by(Stage.position))]  # noqa: E731
    assert stages() == ["Awareness", "Consideration", "Decision", "Onboarding"]
    onboarding = db.session.scalar(select(Stage).where(Stage.name == "Onboarding"))
    post_form(client, f"/admin/taxonomy/stage/{onboarding.id}/up")
    assert stages() == ["Awareness", "Consideration", "Onboarding", "Decision"]
    retail = db.session.scalar(select(Term).where(Term.name == "Retail"))
    renamed = post_form(client, f"/admin/taxonomy/term/{retail.id}/rename", {"name": "Retail & E-commerce"},
                        follow_redirects=True).get_data(as_text=True)
    assert "Term “Retail” renamed to “Retail &amp; E-commerce”." in renamed  # what it was, and what it is now
    db.session.refresh(retail)
    assert retail.name == "Retail & E-commerce"
    for name, said in (("  ", "was not renamed: give a name of 1 to 80 characters"),
                       ("decision", "was not renamed: “decision” is already in that list")):
        refused = post_form(client, f"/admin/taxonomy/stage/{onboarding.id}/rename", {"name": name},
                            follow_redirects=True).get_data(as_text=True)
        assert f"“Onboarding” {said}" in refused
    assert stages() == ["Awareness", "Consideration", "Onboarding", "Decision"]
    deleted = post_form(client, f"/admin/taxonomy/term/{retail.id}/delete", follow_redirects=True)
    page = deleted.get_data(as_text=True)
    assert "tags 1 asset(s)" in page and db.session.get(Term, retail.id) is not None
    unused_id = db.session.scalar(select(Term.id).where(Term.name == "Manufacturing"))
    post_form(client, f"/admin/taxonomy/term/{unused_id}/delete")
    assert db.session.get(Term, unused_id) is None


def test_admin_adds_a_dimension_with_terms_and_reps_filter_by_it(client, login_as, make_asset):
    login_as("admin")
    page = post_form(client, "/admin/taxonomy/dimension", {"name": "Region"}, follow_redirects=True)
    assert "Dimension: “Region” added." in page.get_data(as_text=True)
    region = db.session.scalar(select(Dimension).where(Dimension.name == "Region"))
    for name in ("EMEA", "Americas"):
        post_form(client, f"/admin/taxonomy/dimension/{region.id}/terms", {"name": name})
    clash = post_form(client, f"/admin/taxonomy/dimension/{region.id}/terms", {"name": "emea"}, follow_redirects=True)
    assert "already exists" in clash.get_data(as_text=True)
    db.session.refresh(region)
    assert [t.name for t in region.terms] == ["EMEA", "Americas"]
    for _ in range(2):
        post_form(client, f"/admin/taxonomy/dimension/{region.id}/up")
    order = [d.name for d in db.session.scalars(select(Dimension).order_by(Dimension.position))]
    assert order == ["Region", "Industry"]
    make_asset("Retail deck for EMEA", terms=["Retail", "EMEA"])
    make_asset("Retail deck for the Americas", terms=["Retail", "Americas"])
    used = post_form(client, f"/admin/taxonomy/dimension/{region.id}/delete", follow_redirects=True)
    assert "tags 2 asset(s)" in used.get_data(as_text=True)
    form = client.get("/manage/new").get_data(as_text=True)
    assert form.index("<legend class=\"legend\">Region</legend>") < form.index("EMEA") < form.index("Healthcare")
    answer = client.get("/api/v1/search?industry=Retail&region=EMEA").get_json()
    assert [r["title"] for r in answer["results"]] == ["Retail deck for EMEA"]
    assert answer["facets"]["region"] == {"EMEA": 1, "Americas": 1}


def test_create_user_command_makes_the_first_admin(app):
    result = app.test_cli_runner().invoke(args=[
        "create-user", "--email", "boss@example.com", "--name", "Boss", "--role", "admin",
        "--team", "HQ", "--password", "first-admin-pw"])
    assert result.exit_code == 0, result.output
    boss = accounts.find_user("boss@example.com")
    assert boss.role == "admin" and boss.team.name == "HQ" and boss.check_password("first-admin-pw")
    again = app.test_cli_runner().invoke(args=[
        "create-user", "--email", "boss@example.com", "--name", "Boss", "--password", "x"])
    assert again.exit_code != 0 and "already exists" in again.output


def test_last_login_is_the_later_of_sign_in_and_last_use(client, login_as, make_user, make_asset):
    """The users page's "Last login" (README glossary): a remembered session is seen through its events."""
    from datetime import datetime

    from app import usage

    asset = make_asset()
    signed_in_only, remembered, used_before_sign_in, never = (make_user("rep") for _ in range(4))
    signed_in_only.last_login_at = datetime(2026, 3, 1, 9)
    remembered.last_login_at = datetime(2026, 1, 5, 9)
    used_before_sign_in.last_login_at = datetime(2026, 6, 1, 9)
    db.session.commit()
    usage.record([{"kind": "view", "user_id": user.id, "asset_id": asset.id, "created_at": at} for user, at in (
        (remembered, datetime(2026, 2, 1, 8)), (remembered, datetime(2026, 4, 9, 8)),
        (used_before_sign_in, datetime(2026, 5, 2, 8)))])
    login_as("admin")
    page = client.get("/admin/users").get_data(as_text=True)

    def row(user):
        return page[page.index(user.email):].split("</tr>")[0]

    assert "2026-03-01" in row(signed_in_only)
    assert "2026-04-09" in row(remembered)  # the newest event, after the last sign-in
    assert "2026-06-01" in row(used_before_sign_in)
    assert "never" in row(never)


def test_the_last_active_admin_cannot_be_removed_and_no_admin_deactivates_themselves(app, client, login_as,
                                                                                     make_user):
    me = login_as("admin")
    page = post_form(client, f"/admin/users/{me.id}", {"name": me.name, "role": "admin", "team_id": 0})
    assert page.status_code == 400 and "You cannot deactivate your own account" in page.get_data(as_text=True)
    demoted = post_form(client, f"/admin/users/{me.id}", {"name": me.name, "role": "rep", "team_id": 0, "active": "y"})
    assert demoted.status_code == 400 and "the only active admin" in demoted.get_data(as_text=True)
    db.session.refresh(me)
    assert (me.active, me.role) == (True, "admin")
    assert client.get("/admin/users").status_code == 200  # still signed in, still an admin

    other = make_user("admin", team=None)
    assert post_form(client, f"/admin/users/{me.id}", {"name": me.name, "role": "manager", "team_id": 0,
                                                       "active": "y"}).status_code == 302  # another admin remains
    db.session.refresh(me)
    assert me.role == "manager" and other.active
