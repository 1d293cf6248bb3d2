"""Freshness: an asset's owner verifies it; past its review interval reps see "Needs review", and
expiry warns ahead. States are judged on a frozen day passed to the service."""
import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from app.database import transaction
from app.extensions import db
from app.library import freshness
from app.library.assets import AssetData, AssetError, save_asset, set_status
from app.library.freshness import State
from app.models import Asset, UsageEvent, utcnow
from tests.conftest import login, post_form
from tests.factories import new_asset

VERIFIED = datetime(2026, 11, 12, 9, 30)
DAY = VERIFIED.date()


def backdate(asset: Asset, verified_at: datetime) -> None:
    """The asset was last checked at `verified_at` (by nobody in particular)."""
    with transaction():
        db.session.execute(update(Asset).where(Asset.id == asset.id)
                           .values(verified_at=verified_at, verified_by_id=None, updated_at=Asset.updated_at))


def test_a_one_pager_goes_from_fresh_to_due_soon_to_needs_review_on_the_calendar(make_asset, make_user):
    asset = make_asset(kind="one_pager")
    freshness.verify(asset.owner, [asset], at=VERIFIED)
    assert asset.review_interval_days == 90
    states = {days: freshness.freshness(asset, DAY + timedelta(days=days)).state
              for days in (0, 75, 76, 90, 91, 400)}
    assert states == {0: State.FRESH, 75: State.FRESH, 76: State.DUE_SOON, 90: State.DUE_SOON,
                      91: State.NEEDS_REVIEW, 400: State.NEEDS_REVIEW}
    assert freshness.freshness(asset, DAY).review_due == date(2027, 2, 10)


def test_expiry_warns_thirty_days_ahead_then_the_asset_is_expired(make_asset):
    asset = make_asset(expires_on=DAY + timedelta(days=40))
    freshness.verify(asset.owner, [asset], at=VERIFIED)
    assert freshness.freshness(asset, DAY + timedelta(days=9)).state == State.FRESH
    assert freshness.freshness(asset, DAY + timedelta(days=10)).state == State.EXPIRING_SOON
    assert freshness.freshness(asset, DAY + timedelta(days=40)).state == State.EXPIRING_SOON
    assert freshness.freshness(asset, DAY + timedelta(days=41)).state == State.EXPIRED
    # Expired outranks overdue: the asset is gone for reps, not merely unchecked.
    assert freshness.freshness(asset, DAY + timedelta(days=200)).state == State.EXPIRED


def test_review_interval_defaults_by_kind_and_the_author_may_set_one(make_asset):
    kinds = {kind: make_asset(f"A {kind}", kind=kind).review_interval_days
             for kind in ("battlecard", "case_study", "brochure", "slide_deck", "datasheet")}
    assert kinds == {"battlecard": 30, "case_study": 180, "brochure": 180, "slide_deck": 90, "datasheet": 90}


def test_an_author_sets_the_interval_on_the_form_within_bounds(client, login_as, make_asset):
    marketer = login_as("marketer")
    asset = new_asset(marketer, "Pricing battlecard", kind="battlecard")
    form = {"title": asset.title, "kind": "battlecard", "status": "published", "body": "Prices",
            "review_interval_days": "14"}
    assert post_form(client, f"/manage/{asset.id}/edit", form).status_code == 302
    db.session.refresh(asset)
    assert asset.review_interval_days == 14
    refused = post_form(client, f"/manage/{asset.id}/edit", {**form, "review_interval_days": "3"})
    assert refused.status_code == 400
    db.session.refresh(asset)
    assert asset.review_interval_days == 14


def test_an_interval_left_by_kind_stays_by_kind_through_an_edit(client, login_as, make_asset):
    """The edit form shows an empty interval where the asset has its kind's, so saving it unchanged and
    then changing the kind gives the new kind's (a trial: saving turned "by kind" into a fixed 90)."""
    marketer = login_as("marketer")
    asset = new_asset(marketer, "Plant tour deck", kind="slide_deck")
    page = client.get(f"/manage/{asset.id}/edit").get_data(as_text=True)
    assert re.search(r'<input[^>]*id="review_interval_days"[^>]*value=""', page)
    form = {"title": asset.title, "kind": "case_study", "status": "published", "body": "Tour",
            "review_interval_days": ""}
    assert post_form(client, f"/manage/{asset.id}/edit", form).status_code == 302
    db.session.refresh(asset)
    assert asset.review_interval_days == 180


def test_a_new_asset_counts_as_verified_by_its_author(make_asset):
    asset = make_asset()
    assert asset.verified_by_id == asset.owner_id
    assert freshness.freshness(asset).state == State.FRESH


def test_rep_sees_needs_review_until_the_owner_verifies(client, make_user, make_asset):
    owner = make_user("marketer", name="Mara Quinn", team="Marketing")
    asset = new_asset(owner, "Healthcare ROI one-pager", terms=["Healthcare"])
    updated = asset.updated_at
    backdate(asset, utcnow() - timedelta(days=120))
    rep = make_user("rep")

    login(client, rep.email)
    page = client.get(f"/assets/{asset.id}").get_data(as_text=True)
    assert "Needs review" in page and "Check the facts before using it" in page
    assert "Verify: still right" not in page
    assert "Needs review" in client.get("/search?q=healthcare").get_data(as_text=True)
    assert post_form(client, f"/manage/{asset.id}/verify").status_code == 403
    post_form(client, "/logout")

    login(client, owner.email)
    assert "Verify: still right" in client.get(f"/assets/{asset.id}").get_data(as_text=True)
    done = post_form(client, f"/manage/{asset.id}/verify", follow_redirects=True).get_data(as_text=True)
    assert "verified: next review due" in done
    post_form(client, "/logout")

    login(client, rep.email)
    page = client.get(f"/assets/{asset.id}").get_data(as_text=True)
    today = utcnow()
    assert f"Verified by Mara Quinn, {today.day} {today:%b}" in page
    assert "Needs review" not in page and "Fresh" in page
    [event] = db.session.scalars(select(UsageEvent).where(UsageEvent.kind == "verify")).all()
    assert (event.user_id, event.asset_id) == (owner.id, asset.id)
    db.session.refresh(asset)
    assert asset.updated_at == updated  # a check is not a content change
    post_form(client, "/logout")
    login(client, owner.email)
    set_status(asset, "archived")
    page = client.get(f"/assets/{asset.id}").get_data(as_text=True)
    assert "Archived — reps cannot see this asset." in page  # not in use: no freshness, nothing to verify
    assert "Fresh" not in page and "Verify: still right" not in page


def test_verifying_several_is_all_or_nothing(make_asset, make_user):
    mine, other = make_asset("Mine"), make_asset("Other")
    rep = make_user("rep")
    before = [mine.verified_at, other.verified_at]
    with pytest.raises(freshness.FreshnessError):
        freshness.verify(rep, [mine, other])
    with pytest.raises(freshness.FreshnessError):
        freshness.verify(mine.owner, [])
    assert [mine.verified_at, other.verified_at] == before
    assert db.session.scalars(select(UsageEvent).where(UsageEvent.kind == "verify")).all() == []


def test_an_out_of_range_interval_is_refused_by_the_service(make_asset):
    asset = make_asset()
    with pytest.raises(AssetError):
        save_asset(AssetData(title="x", kind="one_pager", body="b", review_interval_days=2000), asset.owner,
                   asset=asset)


def test_rep_is_warned_ahead_of_expiry_and_sees_when_the_next_review_is(client, make_user, make_asset):
    expires = utcnow().date() + timedelta(days=10)
    asset = make_asset("Q4 promotion one-pager", expires_on=expires)
    login(client, make_user("rep").email)
    page = client.get(f"/assets/{asset.id}").get_data(as_text=True)
    assert "Expiring soon" in page and f"Expires on {expires.isoformat()}: after that reps no longer see it" in page
    due = freshness.review_due_on(asset)
    assert f"{due.isoformat()} <span class=\"muted\">(every 90 days)</span>" in page
    assert "Expiring soon" in client.get("/").get_data(as_text=True)  # its card on the home page
