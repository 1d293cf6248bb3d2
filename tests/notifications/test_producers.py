"""Producers: owners hear that an asset needs review or expires, reps hear of new content in their
segments; run twice (or daily) on a frozen clock, they tell nobody twice."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app import usage
from app.database import transaction
from app.extensions import db
from app.library import notices, taxonomy
from app.models import Notification, utcnow
from app.notifications import preferences
from app.notifications.preferences import Choice
from tests.factories import aged, new_asset


def told(user, kind: str) -> list[str]:
    return list(db.session.scalars(select(Notification.message).where(Notification.user_id == user.id,
                                                                      Notification.kind == kind)
                                   .order_by(Notification.id)))


def follow(user, *names: str) -> None:
    terms, _ = taxonomy.terms_by_name(list(names))
    current = preferences.choices_of(user)
    preferences.save(user, current, [t.id for t in terms])


def test_review_due_tells_the_owner_once_per_due_date(app, make_user):
    mara = make_user("marketer", name="Mara Quinn")
    card = new_asset(mara, "Acme battlecard", kind="battlecard")  # reviewed every 30 days
    today = card.verified_at.date()
    assert notices.review_due(today + timedelta(days=30)) == 0  # due today: not yet overdue
    later = today + timedelta(days=31)
    assert notices.review_due(later) == 1
    assert notices.review_due(later) == 0
    assert notices.review_due(later + timedelta(days=1)) == 0  # the same review, still due
    assert told(mara, "review_due") == [f"“Acme battlecard” needs review: it was due "
                                        f"{today + timedelta(days=30):%d %b %Y}."]


def test_expiring_soon_and_archived_or_orphaned_assets(app, make_user):
    mara, gone = make_user("marketer"), make_user("marketer")
    today = utcnow().date()
    new_asset(mara, "Q4 promo", expires_on=today + timedelta(days=10))
    new_asset(mara, "Old promo", expires_on=today + timedelta(days=10), status="archived")
    new_asset(gone, "Promo of someone who left", expires_on=today + timedelta(days=10))
    with transaction():
        gone.active = False
    assert notices.review_due(today) == 1
    assert notices.review_due(today) == 0
    assert told(mara, "review_due") == [f"“Q4 promo” expires on {today + timedelta(days=10):%d %b %Y}."]


def test_new_content_reaches_reps_following_its_segments(app, make_user, make_asset):
    ana, bo, cy = make_user("rep"), make_user("rep"), make_user("rep")
    follow(ana, "Retail")
    now = utcnow()
    old_healthcare = aged(make_asset("Clinic case study", terms=["Healthcare"]), 40)
    usage.log_event("view", user=bo, asset=old_healthcare, at=now - timedelta(days=10))  # Bo follows Healthcare
    usage.log_event("view", user=cy, asset=old_healthcare, at=now - timedelta(days=100))  # too long ago
    app.extensions["usage_log"].flush()
    make_asset("Retail ROI one-pager", terms=["Retail"])
    make_asset("Hospital datasheet", terms=["Healthcare"])
    make_asset("Draft retail deck", terms=["Retail"], status="draft")
    later = utcnow()
    assert notices.new_content(later) == 2
    assert notices.new_content(later) == 0
    assert notices.new_content(later + timedelta(days=1)) == 0
    assert told(ana, "new_content") == ["New in your segments: “Retail ROI one-pager”"]
    assert told(bo, "new_content") == ["New in your segments: “Hospital datasheet”"]
    assert told(cy, "new_content") == []


def test_chosen_segments_win_over_what_a_rep_used(app, make_user, make_asset):
    ana = make_user("rep")
    used = aged(make_asset("Clinic case study", terms=["Healthcare"]), 40)
    usage.log_event("view", user=ana, asset=used, at=utcnow() - timedelta(days=3))
    app.extensions["usage_log"].flush()
    follow(ana, "Manufacturing")
    make_asset("Hospital datasheet", terms=["Healthcare"])
    make_asset("Plant floor brochure", terms=["Manufacturing"])
    notices.new_content(utcnow())
    assert told(ana, "new_content") == ["New in your segments: “Plant floor brochure”"]


def test_a_scan_honours_preferences(app, make_user, make_asset):
    ana = make_user("rep")
    follow(ana, "Retail")
    preferences.save(ana, {"new_content": Choice(in_app=False, email="off")})
    make_asset("Retail ROI one-pager", terms=["Retail"])
    assert notices.new_content(utcnow()) == 1  # told (and remembered), but shown nowhere
    assert told(ana, "new_content") == []


def test_the_preferences_page_says_which_segments_a_rep_follows(client, login_as, make_asset):
    ana = login_as("rep")
    used = aged(make_asset("Clinic case study", terms=["Healthcare"]), 40)
    usage.log_event("view", user=ana, asset=used, at=utcnow() - timedelta(days=3))
    client.application.extensions["usage_log"].flush()
    page = client.get("/notifications/preferences").get_data(as_text=True)
    assert "You follow now: <strong>Healthcare</strong> (from what you used)." in page
    follow(ana, "Retail", "Manufacturing")
    page = client.get("/notifications/preferences").get_data(as_text=True)
    assert "You follow now: <strong>Manufacturing, Retail</strong>." in page
