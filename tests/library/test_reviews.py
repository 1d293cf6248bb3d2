"""The review queue: an owner sees what to check now (overdue, due, flagged, expiring), most urgent
first, and verifies, archives or reassigns several assets at once after a confirmation, all or nothing."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from app.database import transaction
from app.extensions import db
from app.library import flags, reviews
from app.models import Asset, UsageEvent, utcnow
from tests.conftest import login, post_form
from tests.factories import new_asset

DAY = datetime(2026, 11, 12).date()


def checked(asset: Asset, days_ago: int, day=None) -> Asset:
    """The asset was last verified `days_ago` days before `day` (today when not given)."""
    when = datetime.combine(day or utcnow().date(), datetime.min.time()) - timedelta(days=days_ago)
    with transaction():
        db.session.execute(update(Asset).where(Asset.id == asset.id)
                           .values(verified_at=when, updated_at=Asset.updated_at))
    db.session.refresh(asset)
    return asset


@pytest.fixture
def owner(make_user):
    return make_user("marketer", name="Mara Quinn", team="Marketing")


def test_queue_holds_what_to_check_now_most_urgent_first(owner, make_user):
    colleague = make_user("marketer", name="Colm Reyes", team="Marketing")
    checked(new_asset(owner, "Fresh deck", kind="slide_deck"), 10, DAY)
    overdue = checked(new_asset(owner, "Overdue one-pager"), 100, DAY)
    due = checked(new_asset(owner, "Due soon datasheet", kind="datasheet"), 80, DAY)
    flagged = checked(new_asset(owner, "Flagged case study", kind="case_study"), 5, DAY)
    flags.raise_flag(make_user("rep"), flagged, "wrong", "Wrong product names")
    expiring = checked(new_asset(owner, "Expiring brochure", kind="brochure", expires_on=DAY + timedelta(days=20)),
                       5, DAY)
    checked(new_asset(owner, "Archived overdue", status="archived"), 300, DAY)
    theirs = checked(new_asset(colleague, "Colm's overdue battlecard", kind="battlecard"), 45, DAY)

    mine = reviews.queue(owner=owner, today=DAY)
    assert [(i.asset.title, i.reasons) for i in mine] == [
        (flagged.title, ["flagged"]), (overdue.title, ["overdue"]), (expiring.title, ["expiring"]),
        (due.title, ["due"])]
    assert mine[0].flags[0].note == "Wrong product names"
    everyone = [i.asset.title for i in reviews.queue(today=DAY)]
    assert theirs.title in everyone and "Fresh deck" not in everyone and "Archived overdue" not in everyone
    assert [i.asset.title for i in reviews.queue(owner=owner, reason="flagged", today=DAY)] == [flagged.title]
    # A week later the datasheet is overdue as well.
    later = reviews.queue(owner=owner, reason="overdue", today=DAY + timedelta(days=12))
    assert [i.asset.title for i in later] == [overdue.title, due.title]


def test_owner_verifies_two_assets_after_a_confirmation(client, owner):
    first = checked(new_asset(owner, "Overdue one-pager"), 100)
    second = checked(new_asset(owner, "Another overdue one-pager"), 95)
    login(client, owner.email)
    page = client.get("/manage/review/").get_data(as_text=True)
    assert first.title in page and second.title in page and "Review overdue" in page

    form = {"action": "verify", "asset": [str(first.id), str(second.id)]}
    confirm = post_form(client, "/manage/review/bulk", form)
    text = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "Verify 2 assets?" in text and first.title in text
    assert db.session.scalars(select(UsageEvent).where(UsageEvent.kind == "verify")).all() == []

    done = post_form(client, "/manage/review/bulk", {**form, "confirm": "yes"}, follow_redirects=True)
    text = done.get_data(as_text=True)
    assert "Verified 2 assets." in text and "Nothing of yours to review" in text
    events = db.session.scalars(select(UsageEvent).where(UsageEvent.kind == "verify")).all()
    assert sorted((e.asset_id, e.user_id) for e in events) == [(first.id, owner.id), (second.id, owner.id)]


def test_reassigning_gives_the_assets_to_another_marketer_and_never_to_a_rep(client, owner, make_user):
    colleague = make_user("marketer", name="Colm Reyes", team="Marketing")
    rep = make_user("rep")
    assets = [checked(new_asset(owner, f"Overdue {n}"), 100) for n in range(2)]
    login(client, owner.email)
    form = {"action": "reassign", "asset": [str(a.id) for a in assets], "confirm": "yes"}
    refused = post_form(client, "/manage/review/bulk", {**form, "owner": str(rep.id)}, follow_redirects=True)
    assert "Choose an active marketer or admin" in refused.get_data(as_text=True)
    assert {a.owner_id for a in db.session.scalars(select(Asset))} == {owner.id}

    done = post_form(client, "/manage/review/bulk", {**form, "owner": str(colleague.id)}, follow_redirects=True)
    assert "Colm Reyes now owns 2 assets." in done.get_data(as_text=True)
    assert {a.owner_id for a in db.session.scalars(select(Asset))} == {colleague.id}
    colm = client.get("/manage/review/?view=all").get_data(as_text=True)
    assert "Colm Reyes" in colm and "Overdue 0" in colm


def test_archiving_takes_the_assets_from_reps_and_a_missing_one_changes_nothing(client, owner, make_user):
    kept, gone = checked(new_asset(owner, "Overdue kept"), 100), checked(new_asset(owner, "Overdue gone"), 100)
    login(client, owner.email)
    missing = post_form(client, "/manage/review/bulk",
                        {"action": "archive", "asset": [str(kept.id), "999999"], "confirm": "yes"},
                        follow_redirects=True)
    assert "no longer exist" in missing.get_data(as_text=True)
    assert {a.status for a in db.session.scalars(select(Asset))} == {"published"}

    post_form(client, "/manage/review/bulk", {"action": "archive", "asset": [str(gone.id)], "confirm": "yes"})
    post_form(client, "/logout")
    login(client, make_user("rep").email)
    assert client.get(f"/assets/{gone.id}").status_code == 404
    assert client.get(f"/assets/{kept.id}").status_code == 200


def test_reps_have_no_review_queue_and_malformed_requests_are_refused_calmly(client, owner, make_user):
    asset = checked(new_asset(owner, "Overdue one-pager"), 100)
    login(client, make_user("rep").email)
    assert client.get("/manage/review/").status_code == 403
    assert post_form(client, "/manage/review/bulk", {"action": "verify", "asset": str(asset.id)}).status_code == 403
    post_form(client, "/logout")

    login(client, owner.email)
    for form, message in (({"action": "verify", "asset": "abc"}, "Select at least one asset"),
                          ({"action": "explode", "asset": str(asset.id)}, "Choose what to do"),
                          ({"action": "reassign", "asset": str(asset.id), "owner": "x"}, "Choose an active marketer")):
        response = post_form(client, "/manage/review/bulk", form, follow_redirects=True)
        assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert client.get("/manage/review/?view=nonsense&reason=other").status_code == 200
    assert client.get("/manage/review/?reason=%00").status_code == 422  # a NUL is refused everywhere (issue 17)
