"""Acting where you look: from Ignored, Top & bottom and Ratings a marketer ticks assets, confirms an
archive, a refresh, a new owner or a verification, lands back on the page, and can undo it all."""
import re
from datetime import timedelta
from urllib.parse import quote

from sqlalchemy import update

from app.database import transaction
from app.extensions import db
from app.library import freshness, reviews
from app.library.freshness import State
from app.models import Asset, BulkChange, utcnow
from tests.conftest import login, post_form


def undo_action(page: str) -> str:
    found = re.search(r'<form method="post" action="(/manage/review/undo/\d+)" class="flash flash-undo">', page)
    assert found, "no Undo button"
    return found[1]


def test_archive_from_ignored_confirms_returns_and_undoes(client, make_user, make_asset):
    marketer = make_user("marketer", team="Marketing")
    old, older, kept = make_asset("Old brochure"), make_asset("Older brochure"), make_asset("Kept brochure")
    login(client, marketer.email)
    page = client.get("/insights/ignored").get_data(as_text=True)
    assert f'name="asset" value="{old.id}" aria-label="Select “Old brochure”"' in page
    assert 'name="next" value="/insights/ignored?"' in page
    back = "/insights/ignored?days=30"
    confirm = post_form(client, "/manage/review/bulk", {"action": "archive", "asset": [old.id, older.id],
                                                        "next": back}).get_data(as_text=True)
    assert "Archive 2 assets?" in confirm and f'name="next" value="{back}"' in confirm
    assert {db.session.get(Asset, i).status for i in (old.id, older.id)} == {"published"}  # nothing yet
    done = post_form(client, "/manage/review/bulk", {"action": "archive", "asset": [old.id, older.id],
                                                     "next": back, "confirm": "yes"})
    assert done.status_code == 302 and done.headers["Location"] == back
    page = client.get(back).get_data(as_text=True)
    assert "Archived 2 assets." in page
    assert "Old brochure" not in page and "Kept brochure" in page  # archived assets are not live
    undone = post_form(client, undo_action(page), {"next": back}, follow_redirects=True).get_data(as_text=True)
    assert "Undone: Archived 2 assets." in undone and "Old brochure" in undone
    assert {db.session.get(Asset, i).status for i in (old.id, older.id, kept.id)} == {"published"}
    again = post_form(client, undo_action(page), {"next": back}, follow_redirects=True).get_data(as_text=True)
    assert "can no longer be undone" in again


def test_mark_for_refresh_makes_needs_review_until_verified_and_undo_restores_the_check(
        client, make_user, make_asset):
    marketer = make_user("marketer", team="Marketing")
    asset = make_asset("Pricing one-pager")
    checked_at = db.session.get(Asset, asset.id).verified_at
    login(client, marketer.email)
    post_form(client, "/manage/review/bulk", {"action": "refresh", "asset": asset.id, "confirm": "yes",
                                              "next": "/insights/usage"})
    db.session.expire_all()
    assert freshness.freshness(db.session.get(Asset, asset.id)).state == State.NEEDS_REVIEW
    assert [i.asset.id for i in reviews.queue()] == [asset.id]
    change = db.session.query(BulkChange).one()
    post_form(client, f"/manage/review/undo/{change.id}")
    db.session.expire_all()
    restored = db.session.get(Asset, asset.id)
    assert freshness.freshness(restored).state == State.FRESH and restored.verified_at == checked_at
    assert restored.refresh_requested_at is None


def test_undo_is_all_or_nothing_when_an_asset_changed_since(client, make_user, make_asset):
    marketer, other = make_user("marketer", team="Marketing"), make_user("marketer", team="Marketing")
    first, second = make_asset("First deck"), make_asset("Second deck")
    login(client, marketer.email)
    post_form(client, "/manage/review/bulk", {"action": "reassign", "owner": other.id,
                                              "asset": [first.id, second.id], "confirm": "yes"})
    with transaction():  # someone gives the second deck to a third person meanwhile
        db.session.execute(update(Asset).where(Asset.id == second.id).values(owner_id=marketer.id))
    change = db.session.query(BulkChange).one()
    page = post_form(client, f"/manage/review/undo/{change.id}", follow_redirects=True).get_data(as_text=True)
    assert "“Second deck” changed since, so nothing was undone." in page
    db.session.expire_all()
    assert db.session.get(Asset, first.id).owner_id == other.id  # the first one was not put back either


def test_only_the_person_who_made_a_change_may_undo_it(client, make_user, make_asset):
    asset = make_asset("Deck")
    mine, theirs = make_user("marketer", team="Marketing"), make_user("marketer", team="Marketing")
    login(client, mine.email)
    post_form(client, "/manage/review/bulk", {"action": "archive", "asset": asset.id, "confirm": "yes"})
    post_form(client, "/logout")
    login(client, theirs.email)
    change = db.session.query(BulkChange).one()
    page = post_form(client, f"/manage/review/undo/{change.id}", follow_redirects=True).get_data(as_text=True)
    assert "can no longer be undone" in page and db.session.get(Asset, asset.id).status == "archived"


def test_a_change_older_than_a_day_cannot_be_undone(client, make_user, make_asset):
    asset = make_asset("Deck")
    login(client, make_user("marketer", team="Marketing").email)
    post_form(client, "/manage/review/bulk", {"action": "verify", "asset": asset.id, "confirm": "yes"})
    with transaction():
        db.session.execute(update(BulkChange).values(created_at=utcnow() - timedelta(hours=25)))
    change = db.session.query(BulkChange).one()
    assert "can no longer be undone" in post_form(client, f"/manage/review/undo/{change.id}",
                                                   follow_redirects=True).get_data(as_text=True)


def test_bulk_forms_on_top_bottom_and_ratings_and_not_for_managers(client, make_user, make_asset):
    asset = make_asset("Rated deck")
    from app.library import ratings
    ratings.rate(make_user("rep"), asset, 2)
    login(client, make_user("marketer", team="Marketing").email)
    for path in ("/insights/usage", "/insights/ratings", "/insights/ignored"):
        page = client.get(path).get_data(as_text=True)
        assert 'action="/manage/review/bulk"' in page and "Mark for refresh" in page, path
    post_form(client, "/logout")
    login(client, make_user("manager").email)
    assert 'action="/manage/review/bulk"' not in client.get("/insights/ignored").get_data(as_text=True)


def test_a_foreign_next_is_not_followed(client, make_user, make_asset):
    asset = make_asset("Deck")
    login(client, make_user("marketer", team="Marketing").email)
    done = post_form(client, "/manage/review/bulk", {"action": "verify", "asset": asset.id, "confirm": "yes",
                                                     "next": "//evil.example/" + quote("x")})
    assert done.headers["Location"].endswith("/manage/review/?view=mine") or \
        done.headers["Location"].startswith("/manage/review/")
