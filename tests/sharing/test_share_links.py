"""Share links: a prospect opens one item without an account; the rep sees what they did."""
from __future__ import annotations

import io
import math
import re
import secrets
from datetime import datetime, timedelta

import pypdf
import pytest
from PIL import Image
from sqlalchemy import select, update

from app.accounts import service as accounts
from app.database import transaction
from app.documents import authoring, generate
from app.extensions import db
from app.library import assets as library
from app.models import Notification, ShareLink, UsageEvent, utcnow
from app.sharing import links
from app.web import ratelimit
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
    assert "Platform brochure" in page and "From <strong>Riley Park</strong>" in page
    assert 'alt="Page 2 of 2 of Platform brochure"' in page
    image = prospect.get(f"/s/{link.token}/pages/2.png")
    assert image.status_code == 200 and image.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert image.headers["Cache-Control"] == "private, no-store"  # no proxy keeps it after a revoke
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
    monkeypatch.setattr(ratelimit, "TOKEN_SCAN_LIMIT", (5, 60))
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
    post_form(rep_client, f"/assets/{asset.id}/customize", {"customer": "Acme Health", "action": "create"})
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


def archive(asset) -> None:
    library.set_status(asset, "archived")


def set_back_to_draft(asset) -> None:
    library.set_status(asset, "draft")


def expire(asset) -> None:
    with transaction():
        asset.expires_on = utcnow().date() - timedelta(days=1)


def make_internal(asset) -> None:
    with transaction():
        asset.audience = "internal"


def delete(asset) -> None:
    library.delete_asset(asset)


@pytest.mark.parametrize("end, reason", [
    (archive, "“Platform brochure” was archived."),
    (set_back_to_draft, "“Platform brochure” was set back to draft."),
    (expire, "“Platform brochure” expired on"),
    (make_internal, "“Platform brochure” is now internal only."),
    (delete, "What it showed was deleted."),
])
def test_a_link_ends_when_its_content_may_no_longer_be_seen(app, rep_client, brochure, end, reason):
    link = share(rep_client, brochure)
    prospect = app.test_client()
    with prospect.get(f"/s/{link.token}/pages/1.png") as image:
        assert image.status_code == 200
    end(db.session.get(type(brochure), brochure.id))
    gone = prospect.get(f"/s/{link.token}")
    page = gone.get_data(as_text=True)
    assert gone.status_code == 410 and "This link is no longer available" in page
    assert "Riley Park" in page and f'href="mailto:{rep_client.user.email}"' in page  # whom to ask
    assert "library" not in page.lower() and "/login" not in page and 'href="/"' not in page
    for path in ("pages/1.png", "download"):
        assert prospect.get(f"/s/{link.token}/{path}").status_code == 410
    assert reason in rep_client.get("/shares").get_data(as_text=True)
    assert reason in rep_client.get(f"/shares/{link.id}").get_data(as_text=True)


def test_a_link_ends_when_its_file_is_replaced_or_its_sender_leaves(app, rep_client, brochure, sample_files,
                                                                     make_user):
    link = share(rep_client, brochure)
    prospect = app.test_client()
    library.add_version(brochure, (sample_files.pdf("v2.pdf", ["New pricing"]), "v2.pdf"), brochure.owner)
    assert prospect.get(f"/s/{link.token}").status_code == 410
    assert "replaced by version 2: share it again" in rep_client.get("/shares").get_data(as_text=True)
    fresh = share(rep_client, brochure)  # a link made now shows version 2
    assert prospect.get(f"/s/{fresh.token}").status_code == 200
    with prospect.get(f"/s/{fresh.token}/download") as download:
        assert pypdf.PdfReader(io.BytesIO(download.data)).pages[0].extract_text() == "New pricing"
    accounts.update_user(rep_client.user, name=rep_client.user.name, role="rep", team_id=None, active=False)
    gone = prospect.get(f"/s/{fresh.token}")
    assert gone.status_code == 410 and "Riley Park" in gone.get_data(as_text=True)


def test_unknown_links_get_the_prospects_page_not_bridge_s(app, brochure):
    missing = app.test_client().get(f"/s/{secrets.token_urlsafe(32)}")
    page = missing.get_data(as_text=True)
    assert missing.status_code == 404 and "This link does not exist" in page and "library" not in page.lower()


def test_internal_assets_cannot_be_shared(app, rep_client, make_asset):
    pricing = make_asset("Pricing and Discount Guidance", kind="messaging", body="Discount bands: 10-25%.")
    page = rep_client.get(f"/share/new?asset={pricing.id}").get_data(as_text=True)
    assert "internal only: it cannot be shared with a prospect" in page and "Create link" not in page
    refused = post_form(rep_client, f"/share/new?asset={pricing.id}", {"expires": "30"})
    assert refused.status_code == 422
    api = rep_client.post("/api/v1/shares", json={"asset_id": pricing.id})
    assert api.status_code == 422 and "internal only" in api.get_json()["error"]["message"]
    assert db.session.scalars(select(ShareLink)).all() == []


def test_the_prospect_sees_the_seller_the_sender_their_message_and_next_step(app, rep_client, brochure, make_user,
                                                                             sample_files):
    admin = app.test_client()
    login(admin, make_user("admin", team=None).email)
    saved = post_form(admin, "/admin/branding", {"name": "Lumenfold", "logo": (io.BytesIO(
        sample_files.png(size=(600, 300)).read_bytes()), "logo.png")}, content_type="multipart/form-data")
    assert saved.status_code == 302
    link = share(rep_client, brochure, message="As promised, the brochure.\nPage 2 has the figures.",
                 cta="meeting", meeting_url="https://cal.example.com/riley")
    prospect = app.test_client()
    page = prospect.get(f"/s/{link.token}").get_data(as_text=True)
    assert "<span>Lumenfold</span>" in page and "Bridge" not in page
    logo = re.search(r'<img class="share-logo" src="([^"]+)"', page).group(1)
    with prospect.get(logo) as image:
        assert image.status_code == 200 and Image.open(io.BytesIO(image.data)).size == (320, 160)
    assert "As promised, the brochure.\nPage 2 has the figures." in page
    assert 'href="https://cal.example.com/riley"' in page and "Book a meeting with Riley Park" in page
    assert f'href="mailto:{rep_client.user.email}?subject=Re%3A%20Platform%20brochure"' in page


@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://files.example.com/x", "cal.example.com", "",
                                 "https://cal.example.com/a b"])
def test_a_meeting_link_must_be_a_web_address(rep_client, brochure, url):
    data = {"expires": "30", "cta": "meeting", "meeting_url": url}
    response = post_form(rep_client, f"/share/new?asset={brochure.id}", data)
    said = "needs your booking link" if url == "" else "must be a web address"  # missing, or not a link
    assert response.status_code == 422 and said in response.get_data(as_text=True)
    assert db.session.scalars(select(ShareLink)).all() == []


@pytest.mark.parametrize("value", ["false", 0, 1, "0", None, "no", "true", [], {}])
def test_api_allow_download_takes_only_json_booleans(rep_client, brochure, value):
    answer = rep_client.post("/api/v1/shares", json={"asset_id": brochure.id, "allow_download": value})
    error = answer.get_json()["error"]
    assert answer.status_code == 422 and error["field"] == "allow_download"
    assert "must be true or false" in error["message"]
    assert db.session.scalars(select(ShareLink)).all() == []


@pytest.mark.parametrize("value, allowed", [(True, True), (False, False), ("absent", True)])
def test_api_allow_download_true_false_or_absent(app, rep_client, brochure, value, allowed):
    body = {"asset_id": brochure.id} | ({} if value == "absent" else {"allow_download": value})
    token = rep_client.post("/api/v1/shares", json=body).get_json()["token"]
    assert links.by_token(token).allow_download is allowed
    with app.test_client().get(f"/s/{token}/download") as download:
        assert download.status_code == (200 if allowed else 403)


def test_a_refused_share_form_says_why_at_the_top_and_makes_no_link(rep_client, brochure):
    data = {"recipient_name": "Dr. Rivera", "recipient_email": "rivera-at-mercy", "account": "Mercy Regional",
            "expires": "30"}
    response = post_form(rep_client, f"/share/new?asset={brochure.id}", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    flash = re.search(r'<div class="flash flash-error"[^>]*>(.*?)</div>', page, re.S)
    assert flash and "Not saved." in flash.group(1) and "Invalid email address" in flash.group(1)
    assert db.session.scalars(select(ShareLink)).all() == []
