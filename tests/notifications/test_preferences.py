"""Preferences: each user chooses, per kind, the app and the email; notify() obeys, and only the owner
of the preferences or notifications ever sees or changes them."""
from __future__ import annotations

from sqlalchemy import select

from app.database import transaction
from app.extensions import db
from app.models import DigestItem, Notification
from app.notifications import preferences, service
from app.notifications.preferences import Choice
from tests.conftest import login, post_form
from tests.mailbox import body


def stored(model, user) -> list:
    return list(db.session.scalars(select(model).where(model.user_id == user.id)))


def tell(user, message: str, kind: str, key: str | None = None) -> None:
    with transaction():
        service.notify(user.id, message, "/assets/1", kind=kind, key=key)


def test_defaults_follow_the_role(app, make_user):
    rep, marketer, manager = make_user("rep"), make_user("marketer"), make_user("manager")
    assert preferences.choices_of(rep)["new_content"] == Choice(in_app=True, email="weekly")
    assert preferences.choices_of(rep)["share_open"] == Choice(in_app=True, email="off")
    assert preferences.choices_of(marketer)["review_due"] == Choice(in_app=True, email="weekly")
    assert preferences.choices_of(manager)["review_due"] == Choice(in_app=True, email="off")


def test_in_app_off_stores_nothing_for_that_kind_only(app, make_user):
    rep = make_user("rep")
    preferences.save(rep, {"share_open": Choice(in_app=False, email="off")})
    tell(rep, "Dana opened “Brochure”.", "share_open")
    tell(rep, "Your flag on “Brochure” was resolved.", "flag_resolved")
    assert [n.message for n in stored(Notification, rep)] == ["Your flag on “Brochure” was resolved."]
    assert [n.kind for n in stored(Notification, rep)] == ["flag_resolved"]


def test_email_off_queues_no_digest_and_weekly_does(app, make_user):
    rep, other = make_user("rep"), make_user("rep")
    preferences.save(rep, {"new_content": Choice(in_app=True, email="off")})
    for user in (rep, other):
        tell(user, "New in your segments: “Retail ROI”", "new_content")
    assert stored(DigestItem, rep) == []
    assert [i.message for i in stored(DigestItem, other)] == ["New in your segments: “Retail ROI”"]
    assert len(stored(Notification, rep)) == 1  # still in the app


def test_a_keyed_notice_is_told_once(app, make_user):
    rep = make_user("rep")
    for _ in range(3):
        tell(rep, "“Pricing” needs review.", "review_due", key="asset:7:review:2026-11-30")
    tell(rep, "“Pricing” needs review.", "review_due", key="asset:7:review:2027-02-28")
    assert len(stored(Notification, rep)) == 2


def test_inactive_users_are_told_nothing(app, make_user):
    rep = make_user("rep")
    with transaction():
        rep.active = False
    tell(rep, "Dana opened “Brochure”.", "share_open")
    assert stored(Notification, rep) == [] and stored(DigestItem, rep) == []


def test_immediate_email_is_sent_after_the_commit_and_not_on_rollback(app, make_user, smtp):
    rep = make_user("rep", email="ana@example.com")
    preferences.save(rep, {"share_open": Choice(in_app=True, email="immediate")})
    try:
        with transaction():
            service.notify(rep.id, "Nobody opened “Rolled back”.", "/shares/1", kind="share_open")
            raise RuntimeError("the action failed")
    except RuntimeError:
        pass
    tell(rep, "Dr. <Rivera> opened “Platform brochure”.", "share_open")
    mails = smtp.mailbox.wait(1)
    assert len(mails) == 1 and mails[0]["To"] == "ana@example.com"
    assert "Dr. <Rivera> opened “Platform brochure”." in body(mails[0])
    assert "Dr. &lt;Rivera&gt; opened" in body(mails[0], "html")
    assert mails[0]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_the_preferences_page_saves_what_the_user_chose(client, login_as):
    rep = login_as("rep")
    page = client.get("/notifications/preferences").get_data(as_text=True)
    assert "New or updated content in my segments" in page and 'for="new_content-email"' in page
    form = {f"{kind}_email": choice.email for kind, choice in preferences.choices_of(rep).items()}
    form |= {f"{kind}_in_app": "y" for kind in preferences.KINDS if kind != "share_open"}
    form["new_content_email"] = "off"
    response = post_form(client, "/notifications/preferences", form, follow_redirects=True)
    assert "Notification preferences saved." in response.get_data(as_text=True)
    choices = preferences.choices_of(rep)
    assert choices["share_open"] == Choice(in_app=False, email="off")
    assert choices["new_content"] == Choice(in_app=True, email="off")


def test_an_email_the_kind_does_not_offer_is_refused(client, login_as):
    rep = login_as("rep")
    form = {f"{kind}_email": "off" for kind in preferences.KINDS} | {"share_open_email": "weekly"}
    response = post_form(client, "/notifications/preferences", form)
    assert "Not saved." in response.get_data(as_text=True)
    assert preferences.choices_of(rep)["new_content"].email == "weekly"  # unchanged


def test_preferences_need_the_csrf_token(client, login_as):
    rep = login_as("rep")
    form = {f"{kind}_email": "off" for kind in preferences.KINDS}
    assert client.post("/notifications/preferences", data=form).status_code == 400
    assert preferences.choices_of(rep)["new_content"].email == "weekly"


def test_a_rep_sees_only_their_own_notifications_and_preferences(client, make_user):
    ana, bo = make_user("rep"), make_user("rep")
    tell(ana, "Dana opened “Ana's secret deck”.", "share_open")
    preferences.save(ana, {"new_content": Choice(in_app=False, email="off")})
    login(client, bo.email)
    assert "Ana's secret deck" not in client.get("/notifications").get_data(as_text=True)
    assert "Ana&#39;s secret deck" not in client.get("/notifications").get_data(as_text=True)
    form = {f"{kind}_email": "off" for kind in preferences.KINDS} | {"user_id": str(ana.id)}
    post_form(client, "/notifications/preferences", form)
    assert preferences.choices_of(ana)["share_open"] == Choice(in_app=True, email="off")  # untouched
    assert preferences.choices_of(bo)["share_open"] == Choice(in_app=False, email="off")  # Bo's own form


def test_notification_pages_need_a_login(client):
    for path in ("/notifications", "/notifications/preferences"):
        assert client.get(path).status_code == 302
