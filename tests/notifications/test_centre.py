"""The notification centre: every kind in one list, filtered by kind, unread first and marked new,
the bell's count cleared by looking, "mark all read" for what is on older pages."""
from __future__ import annotations

import re

from sqlalchemy import select

from app.database import transaction
from app.extensions import db
from app.models import Notification
from app.notifications import service
from tests.conftest import post_form


def tell(user, message: str, kind: str) -> None:
    with transaction():
        service.notify(user.id, message, "/assets/1", kind=kind)


def messages(page: str) -> list[str]:
    return re.findall(r'<a href="/assets/1">([^<]+)</a>', page)


def test_the_bell_leads_to_the_centre_and_looking_clears_it(client, login_as):
    rep = login_as("rep")
    tell(rep, "Dana opened “Brochure”.", "share_open")
    home = client.get("/").get_data(as_text=True)
    assert 'href="/notifications"' in home and '<span class="notify-count">1</span>' in home
    page = client.get("/notifications").get_data(as_text=True)
    assert "Dana opened “Brochure”." in page and "New</span>" in page
    assert 'class="notify-count"' not in client.get("/").get_data(as_text=True)
    assert "New</span>" not in client.get("/notifications").get_data(as_text=True)


def test_filter_by_kind_and_unread_first(client, login_as):
    rep = login_as("rep")
    tell(rep, "Old news: “Deck” was corrected.", "flag_resolved")
    client.get("/notifications")  # read now
    tell(rep, "Dana opened “Brochure”.", "share_open")
    tell(rep, "New in your segments: “Retail ROI”", "new_content")
    page = client.get("/notifications").get_data(as_text=True)
    assert messages(page) == ["New in your segments: “Retail ROI”", "Dana opened “Brochure”.",
                              "Old news: “Deck” was corrected."]
    only = client.get("/notifications?kind=share_open").get_data(as_text=True)
    assert messages(only) == ["Dana opened “Brochure”."]
    assert 'aria-current="page" title="A prospect opened something I shared"' in only
    assert client.get("/notifications?kind=nonsense").status_code == 404


def test_mark_all_read_reaches_older_pages(client, login_as):
    rep = login_as("rep")
    for n in range(service.PER_PAGE + 5):
        tell(rep, f"Prospect {n} opened “Brochure”.", "share_open")
    page = client.get("/notifications").get_data(as_text=True)
    assert "5 more unread on older pages." in page
    response = post_form(client, "/notifications/read", follow_redirects=True)
    assert "Marked 5 notifications read." in response.get_data(as_text=True)
    unread = db.session.scalars(select(Notification).where(Notification.user_id == rep.id,
                                                           Notification.read_at.is_(None))).all()
    assert unread == []
    assert "Older" in page


def test_old_read_notifications_are_pruned_unread_ones_stay(app, make_user):
    from datetime import timedelta

    from app.models import utcnow

    rep = make_user("rep")
    tell(rep, "Read long ago.", "share_open")
    tell(rep, "Never read.", "share_open")
    with transaction():
        for item in db.session.scalars(select(Notification).where(Notification.user_id == rep.id)):
            item.created_at = utcnow() - timedelta(days=service.KEEP_DAYS + 1)
            item.read_at = item.created_at if item.message == "Read long ago." else None
    assert service.prune(utcnow()) == 1
    assert db.session.scalars(select(Notification.message).where(Notification.user_id == rep.id)).all() == [
        "Never read."]
