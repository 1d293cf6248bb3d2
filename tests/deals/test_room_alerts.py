"""A deal room's rep is alerted in-app and by email (a real SMTP server) on a buyer's first visit and on
a visit after the quiet period, never for an immediate return or their own previews; the deal page's
room activity equals a recount from the event log; share links made in a deal log the deal too."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Notification, ShareLink, UsageEvent
from app.rooms import visits
from tests.conftest import post_form
from tests.deals.conftest import new_deal
from tests.deals.rooms import BUYER, make_room
from tests.mailbox import body

START = datetime(2026, 12, 1, 9, 0)


@pytest.fixture
def world(app, team, make_asset, sample_files):
    deal = new_deal(team["riley"], "006B1", account="Mercy Regional")
    roi = make_asset("ROI summary", terms=["Healthcare"],
                     upload=(sample_files.pdf(pages=["One", "Two", "Three"]), "roi.pdf"))
    brochure = make_asset("Platform brochure", terms=["Healthcare"],
                          upload=(sample_files.pdf(pages=["B one", "B two"]), "b.pdf"))
    return {"deal": deal, "roi": roi, "brochure": brochure, **team}


@pytest.fixture
def clock(monkeypatch):
    """The visits' clock, standing still until the test moves it."""
    now = {"at": START}
    monkeypatch.setattr(visits, "utcnow", lambda: now["at"])
    return now


def alerts() -> list[Notification]:
    db.session.expire_all()
    return list(db.session.scalars(select(Notification).order_by(Notification.id)))


def test_first_visit_and_a_visit_after_the_quiet_period_alert_by_email_and_in_app(app, world, client_of, smtp,
                                                                                   clock):
    rep = client_of(world["riley"])
    room = make_room(rep, world["deal"], [world["roi"]], title="Mercy Regional: evaluation")
    buyer = app.test_client()
    buyer.get(f"/r/{room.token}", environ_base=BUYER)
    [first] = smtp.mailbox.wait(1)
    assert first["To"] == "riley@example.com"
    assert "Mercy Regional: evaluation" in first["Subject"] and world["deal"].name in first["Subject"]
    text = body(first, "plain")
    assert "Mercy Regional: evaluation" in text and world["deal"].name in text
    assert f"/deals/{world['deal'].id}" in text
    [note] = alerts()
    assert note.user_id == world["riley"].id and "Mercy Regional: evaluation" in note.message
    assert note.link.endswith(f"/deals/{world['deal'].id}#room")

    clock["at"] = START + timedelta(hours=2)  # an immediate return: no new alert
    buyer.get(f"/r/{room.token}", environ_base=BUYER)
    clock["at"] = START + timedelta(hours=2, minutes=5)
    [item_id] = [i.id for i in room.items]
    buyer.get(f"/r/{room.token}/{item_id}", environ_base=BUYER)
    assert len(smtp.mailbox.wait(2, timeout=1)) == 1 and len(alerts()) == 1

    clock["at"] = START + timedelta(hours=2, minutes=5) + timedelta(hours=24)  # quiet for 24 h: back
    buyer.get(f"/r/{room.token}", environ_base=BUYER)
    second = smtp.mailbox.wait(2)[1]
    assert "back" in second["Subject"] and "Mercy Regional: evaluation" in second["Subject"]
    assert world["deal"].name in body(second, "plain")
    assert len(alerts()) == 2 and "back in your deal room" in alerts()[1].message


@pytest.mark.parametrize("app", [{"ROOM_QUIET_HOURS": 1}], indirect=True)
def test_the_quiet_period_is_a_setting(app, world, client_of, smtp, clock):
    room = make_room(client_of(world["riley"]), world["deal"], [world["roi"]])
    buyer = app.test_client()
    buyer.get(f"/r/{room.token}")
    clock["at"] = START + timedelta(minutes=59)
    buyer.get(f"/r/{room.token}")
    clock["at"] = START + timedelta(minutes=59 + 61)
    buyer.get(f"/r/{room.token}")
    assert len(smtp.mailbox.wait(2)) == 2 and len(alerts()) == 2


def test_the_reps_own_preview_alerts_no_one(app, world, client_of, smtp, clock):
    rep = client_of(world["riley"])
    room = make_room(rep, world["deal"], [world["roi"]])
    rep.get(f"/r/{room.token}")
    client_of(world["dana"]).get(f"/r/{room.token}")
    assert smtp.mailbox.wait(1, timeout=0.5) == [] and alerts() == []


def test_without_smtp_the_alert_stays_in_app(app, world, client_of, clock):
    room = make_room(client_of(world["riley"]), world["deal"], [world["roi"]])
    assert app.test_client().get(f"/r/{room.token}").status_code == 200
    assert len(alerts()) == 1


def test_a_refusing_mail_server_never_troubles_the_buyer(app, world, client_of, clock, caplog):
    app.config["SMTP_URL"] = "smtp://127.0.0.1:9"  # nothing listens there
    room = make_room(client_of(world["riley"]), world["deal"], [world["roi"]])
    response = app.test_client().get(f"/r/{room.token}")
    assert response.status_code == 200 and "SMTP" not in response.get_data(as_text=True)
    assert len(alerts()) == 1 and "notification mail not sent" in caplog.text


def recount(deal_id: int, room_id: int) -> dict:
    """The deal page's room figures, counted straight from the log (not through app/rooms)."""
    rows = db.session.scalars(select(UsageEvent).where(UsageEvent.opportunity_id == deal_id)
                              .order_by(UsageEvent.created_at, UsageEvent.id))
    buyer = [e for e in rows if e.kind.startswith("share_") and e.context.get("room_id") == room_id]
    pages = defaultdict(set)
    for e in buyer:
        if e.kind == "share_page":
            pages[e.context["item_id"]].add(e.context["page"])
    visits, last = 0, {}
    for e in buyer:  # a room-page open more than 30 minutes after the same browser's last step is a new visit
        viewer = e.context["viewer"]
        if e.kind == "share_open" and "item_id" not in e.context and (
                viewer not in last or e.created_at - last[viewer] > timedelta(minutes=30)):
            visits += 1
        last[viewer] = e.created_at
    return {"visits": visits,
            "visitors": len({e.context["viewer"] for e in buyer}),
            "pages": sum(len(p) for p in pages.values()),
            "downloads": sum(e.kind == "share_download" for e in buyer)}


def test_the_deal_page_shows_the_rooms_activity_as_the_log_counts_it(app, world, client_of):
    rep = client_of(world["riley"])
    room = make_room(rep, world["deal"], [world["roi"], world["brochure"]])
    roi_item, brochure_item = (i.id for i in room.items)
    one, two = app.test_client(), app.test_client()
    first, second = {"REMOTE_ADDR": "203.0.113.9"}, {"REMOTE_ADDR": "198.51.100.7"}
    for client, env in ((one, first), (two, second), (one, first)):
        client.get(f"/r/{room.token}", environ_base=env)
    one.get(f"/r/{room.token}/{roi_item}", environ_base=first)
    for page, seconds in ((1, 4), (2, 8), (2, 3), (3, 1.5)):
        one.post(f"/r/{room.token}/{roi_item}/seen", data={"page": page, "seconds": seconds}, environ_base=first)
    two.post(f"/r/{room.token}/{brochure_item}/seen", data={"page": 1, "seconds": 6}, environ_base=second)
    two.get(f"/r/{room.token}/{brochure_item}/download", environ_base=second).close()
    rep.get(f"/r/{room.token}")  # the rep's own preview counts for nothing
    expected = recount(world["deal"].id, room.id)
    assert expected == {"visits": 2, "visitors": 2, "pages": 4, "downloads": 1}  # one's second open: same visit
    html = rep.get(f"/deals/{world['deal'].id}").get_data(as_text=True)
    for figure, value in expected.items():
        assert f'data-figure="{figure}">{value}<' in html, figure
    assert "Visitor 1" in html and "Visitor 2" in html and "ROI summary" in html.split("Buyer activity")[1]


def test_a_share_link_made_in_a_deal_logs_its_prospects_steps_with_the_deal(app, world, client_of):
    rep = client_of(world["riley"])
    response = post_form(rep, f"/share/new?asset={world['roi'].id}",
                         {"recipient_name": "Dr. Rivera", "expires": "30", "allow_download": "y",
                          "opportunity": str(world["deal"].id)})
    assert response.status_code == 302
    link = db.session.scalar(select(ShareLink))
    assert link.opportunity_id == world["deal"].id
    prospect = app.test_client()
    prospect.get(f"/s/{link.token}")
    prospect.post(f"/s/{link.token}/seen", data={"page": 1, "seconds": 5})
    prospect.get(f"/s/{link.token}/download").close()
    logged = list(db.session.scalars(select(UsageEvent).where(UsageEvent.kind.like("share_%"))))
    assert sorted(e.kind for e in logged) == ["share_download", "share_open", "share_page"]
    assert {e.opportunity_id for e in logged} == {world["deal"].id}
