"""Share links: a prospect opens one item without an account; the rep sees what they did."""
from __future__ import annotations

import io
import math
import re
import secrets
from datetime import datetime, timedelta

import pypdf
import pytest
from sqlalchemy import select, update

from app.database import transaction
from app.documents import authoring, generate
from app.extensions import db
from app.models import Notification, ShareLink, UsageEvent, utcnow
from app.sharing import links
from app.sharing import views as share_views
from tests.conftest import login, post_form


@pytest.fixture
def brochure(make_asset, sample_files):
    return make_asset("Platform brochure", upload=(sample_files.pdf(pages=["Page one text", "Page two text"]),
                                                   "brochure.pdf"))


@pytest.fixture
def rep_client(app, make_user):
    client = app.test_client()
    rep = make_user("rep", name="Riley Park")
    login(client, rep.email)
    client.user = rep
    return client


def share(client, asset, **fields) -> ShareLink:
    data = {"recipient_name": "Dr. Rivera", "recipient_email": "rivera@mercy.example", "account": "Mercy Regional",
            "expires": "30", "allow_download": "y", **fields}
    response = post_form(client, f"/share/new?asset={asset.id}", data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return db.session.scalars(select(ShareLink).order_by(ShareLink.id.desc())).first()


def events(kind: str) -> list[UsageEvent]:
    return list(db.session.scalars(select(UsageEvent).where(UsageEvent.kind == kind)))


def test_prospect_opens_reads_and_downloads_without_logging_in(app, rep_client, brochure):
    link = share(rep_client, brochure)
    [created] = events("share")
    assert created.user_id == rep_client.user.id and created.asset_id == brochure.id  # counts as a use
    prospect = app.test_client()
    page = prospect.get(f"/s/{link.token}", environ_base={"REMOTE_ADDR": "203.0.113.9"}).get_data(as_text=True)
    assert "Platform brochure" in page and "Shared by Riley Park" in page and 'alt="Page 2 of 2"' in page
    image = prospect.get(f"/s/{link.token}/pages/2.png")
    assert image.status_code == 200 and image.data[:8] == b"\x89PNG\r\n\x1a\n"
    image.close()
    assert prospect.post(f"/s/{link.token}/seen", data={"page": "2", "seconds": "12.5"}).status_code == 204
    with prospect.get(f"/s/{link.token}/download") as download:
        assert pypdf.PdfReader(io.BytesIO(download.data)).pages[1].extract_text() == "Page two text"
    [opened], [read], [downloaded] = events("share_open"), events("share_page"), events("share_download")
    assert opened.asset_id == brochure.id and opened.user_id is None
    assert downloaded.asset_id == brochure.id and downloaded.user_id is None
    assert read.context["page"] == 2 and read.context["seconds"] == 12.5
    assert "203.0.113.9" not in str(opened.context) and len(opened.context["viewer"]) == 16
    detail = rep_client.get(f"/shares/{link.id}").get_data(as_text=True)
    assert "read page 2 (12 s)" in detail and "downloaded" in detail
    listing = rep_client.get("/shares").get_data(as_text=True)
    assert "opened" in listing and "Dr. Rivera" in listing


def test_the_link_gives_access_to_its_item_only(app, rep_client, brochure, make_asset):
    other = make_asset("Confidential pricing", body="Floor price is 40% off.")
    link = share(rep_client, brochure)
    prospect = app.test_client()
    assert prospect.get(f"/s/{link.token}").status_code == 200
    assert prospect.get(f"/assets/{other.id}").status_code == 302  # the rest of Bridge wants a login
    assert prospect.get(f"/assets/{brochure.id}/download").status_code == 302
    assert prospect.get(f"/s/{link.token}/pages/3.png").status_code == 404
    assert prospect.get(f"/s/{link.token[:-1]}x").status_code == 404


def test_senders_own_opens_do_not_count(app, rep_client, brochure):
    link = share(rep_client, brochure)
    assert rep_client.get(f"/s/{link.token}").status_code == 200
    rep_client.post(f"/s/{link.token}/seen", data={"page": "1", "seconds": "30"})
    assert events("share_open") == [] and events("share_page") == []
    assert db.session.scalars(select(Notification)).all() == []


def test_first_open_notifies_the_sender_once(app, rep_client, brochure):
    link = share(rep_client, brochure)
    prospect = app.test_client()
    prospect.get(f"/s/{link.token}")
    prospect.get(f"/s/{link.token}")
    [note] = db.session.scalars(select(Notification)).all()
    assert note.user_id == rep_client.user.id and "Dr. Rivera (Mercy Regional) opened" in note.message
    assert '<span class="notify-count">1</span>' in rep_client.get("/").get_data(as_text=True)
    assert "opened “Platform brochure”" in rep_client.get("/notifications").get_data(as_text=True)
    assert 'class="notify-count"' not in rep_client.get("/").get_data(as_text=True)


def test_revoked_and_expired_links_answer_410_at_once(app, rep_client, brochure):
    link = share(rep_client, brochure)
    prospect = app.test_client()
    assert prospect.get(f"/s/{link.token}").status_code == 200
    post_form(rep_client, f"/shares/{link.id}/revoke")
    gone = prospect.get(f"/s/{link.token}")
    assert gone.status_code == 410 and "no longer available" in gone.get_data(as_text=True)
    assert prospect.get(f"/s/{link.token}/pages/1.png").status_code == 410
    other = share(rep_client, brochure)
    with transaction():
        db.session.execute(update(ShareLink).where(ShareLink.id == other.id)
                           .values(expires_at=utcnow() - timedelta(minutes=1)))
    assert prospect.get(f"/s/{other.token}").status_code == 410


def test_download_only_when_allowed(app, rep_client, brochure):
    link = share(rep_client, brochure, allow_download="")
    prospect = app.test_client()
    assert "Download" not in prospect.get(f"/s/{link.token}").get_data(as_text=True)
    assert prospect.get(f"/s/{link.token}/download").status_code == 403


def test_tokens_are_long_random_and_unguessable(rep_client, brochure):
    tokens = [share(rep_client, brochure).token for _ in range(5)]
    assert len(set(tokens)) == 5
    for token in tokens:
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)  # 32 random bytes
        assert len(token) * math.log2(64) >= 256


def test_a_token_scan_is_rate_limited(app, rep_client, brochure, monkeypatch):
    monkeypatch.setattr(share_views, "SCAN_LIMIT", (5, 60))
    scanner = app.test_client()
    codes = [scanner.get(f"/s/{secrets.token_urlsafe(32)}").status_code for _ in range(8)]
    assert codes[:5] == [404] * 5 and codes[5:] == [429] * 3
    other_client = app.test_client()
    link = share(rep_client, brochure)
    assert other_client.get(f"/s/{link.token}", environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code == 200


def test_bad_page_reports_are_refused_and_not_recorded(app, rep_client, brochure):
    link = share(rep_client, brochure)  # a 2-page PDF
    prospect = app.test_client()
    for data in ({"page": "0", "seconds": "3"}, {"page": "x", "seconds": "3"}, {"page": "1", "seconds": "-5"},
                 {"page": "3", "seconds": "3"}, {"page": "4999", "seconds": "3"}, {"page": "1", "seconds": "3600.1"},
                 {"page": "1", "seconds": "0"}, {"page": "1", "seconds": "nan"}, {"page": "1"}, {"seconds": "3"}):
        assert prospect.post(f"/s/{link.token}/seen", data=data).status_code == 422, data
    assert events("share_page") == []
    assert prospect.post(f"/s/{link.token}/seen", data={"page": "1", "seconds": "3600"}).status_code == 204
    assert [e.context["seconds"] for e in events("share_page")] == [3600]


def test_share_a_customized_document(app, rep_client, make_asset, make_user):
    asset = make_asset("Proposal")
    authoring.save_template(asset, "<h1>For {{ customer }}</h1>", "",
                                authoring.parse_fields([{"name": "customer", "default": "Acme"}]),
                                make_user("marketer"))
    post_form(rep_client, f"/assets/{asset.id}/customize", {"account": "Acme Health", "customer": "Acme Health",
                                                             "action": "create"})
    document = generate.documents_of(rep_client.user)[0]
    response = post_form(rep_client, f"/share/new?document={document.id}", {"expires": "7", "allow_download": "y"})
    assert response.status_code == 302
    link = db.session.scalar(select(ShareLink))
    assert link.document_id == document.id and link.account == "Acme Health"
    prospect = app.test_client()
    assert "Proposal — Acme Health" in prospect.get(f"/s/{link.token}").get_data(as_text=True)
    assert events("share_open")[0].asset_id == asset.id


def test_api_creates_a_link_and_reports_its_activity(app, rep_client, brochure):
    created = rep_client.post("/api/v1/shares", json={"asset_id": brochure.id, "recipient_email": "cfo@acme.example",
                                                      "allow_download": False})
    assert created.status_code == 201
    token = created.get_json()["token"]
    assert created.get_json()["url"].endswith(f"/s/{token}")
    prospect = app.test_client()
    prospect.get(f"/s/{token}")
    prospect.post(f"/s/{token}/seen", data={"page": "1", "seconds": "4"})
    activity = rep_client.get(f"/api/v1/shares/{token}/activity").get_json()
    assert activity["opens"] == 1 and activity["pages"] == [{"page": 1, "seconds": 4.0}]
    assert app.test_client().get(f"/api/v1/shares/{token}/activity").status_code == 401
    assert rep_client.post("/api/v1/shares", json={"asset_id": brochure.id,
                                                   "expires_at": "2001-01-01T00:00:00Z"}).status_code == 422
    for bad in ({"asset_id": "abc"}, {"asset_id": brochure.id, "expires_at": "next tuesday"}, {}):
        answer = rep_client.post("/api/v1/shares", json=bad)
        assert answer.status_code == 422 and answer.get_json()["error"], bad
    assert rep_client.post("/api/v1/shares", data="asset_id=1").status_code == 400
    later = rep_client.post("/api/v1/shares", json={"asset_id": brochure.id, "expires_at": "2099-06-30T17:00:00+02:00"})
    assert later.status_code == 201
    assert links.by_token(later.get_json()["token"]).expires_at == datetime(2099, 6, 30, 15, 0)


def test_insights_show_prospect_opens_and_open_rate_per_asset(app, rep_client, brochure, make_asset, make_user):
    quiet = make_asset("Quiet one-pager")
    links = [share(rep_client, brochure) for _ in range(3)] + [share(rep_client, quiet)]
    prospect = app.test_client()
    for link, opens in zip(links, [2, 1, 0, 0], strict=True):
        for _ in range(opens):
            prospect.get(f"/s/{link.token}")
    rep_client.get(f"/s/{links[2].token}")  # the sender's own look: not an open
    prospect.get(f"/s/{links[0].token}/download").close()
    marketer = app.test_client()
    login(marketer, make_user("marketer").email)
    csv_text = marketer.get("/insights/shares?format=csv").get_data(as_text=True).splitlines()
    assert csv_text[0] == "Asset,Links made,Links opened,Open rate,Prospect opens,Downloads"
    assert csv_text[1:] == ["Platform brochure,3,2,67%,3,1", "Quiet one-pager,1,0,0%,0,0"]
    ignored = marketer.get("/api/v1/insights/ignored?days=7").get_json()["assets"]
    assert {a["id"] for a in ignored}.isdisjoint({brochure.id, quiet.id})  # a share is a use
