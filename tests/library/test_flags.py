"""Flags: a rep reports an outdated asset, its owner sees it queued, a marketer resolves it."""
from datetime import timedelta

from sqlalchemy import select

from app import usage
from app.extensions import db
from app.library import flags
from app.models import Flag, UsageEvent, utcnow
from tests.conftest import login, post_form


def test_flag_reaches_the_owners_queue_and_is_resolved(app, client, make_user, make_asset):
    asset = make_asset("Pricing sheet 2025")
    owner = asset.owner
    rep = make_user("rep")
    login(client, rep.email)
    response = post_form(client, f"/assets/{asset.id}/flag", {"reason": "outdated", "note": "Prices changed in May"},
                         follow_redirects=True)
    assert f"{owner.name} will review your flag" in response.get_data(as_text=True)
    [flag] = db.session.scalars(select(Flag)).all()
    assert (flag.asset_id, flag.user_id, flag.reason) == (asset.id, rep.id, "outdated")
    assert flag.note == "Prices changed in May"
    [event] = db.session.scalars(select(UsageEvent).where(UsageEvent.kind == "flag")).all()
    assert event.asset_id == asset.id and event.user_id == rep.id
    post_form(client, "/logout")

    login(client, owner.email)
    mine = client.get("/manage/flags").get_data(as_text=True)
    assert "Pricing sheet 2025" in mine and "Prices changed in May" in mine
    assert "Open flags" in client.get(f"/assets/{asset.id}").get_data(as_text=True)
    post_form(client, "/logout")

    colleague = make_user("marketer")
    login(client, colleague.email)
    assert "Pricing sheet 2025" not in client.get("/manage/flags").get_data(as_text=True)
    assert "Pricing sheet 2025" in client.get("/manage/flags?view=all").get_data(as_text=True)
    empty = post_form(client, f"/manage/flags/{flag.id}/resolve?view=all", {"resolution": "  "}, follow_redirects=True)
    assert "Say in a few words what was done" in empty.get_data(as_text=True)  # the flagger would learn nothing
    assert db.session.get(Flag, flag.id).resolved_at is None
    response = post_form(client, f"/manage/flags/{flag.id}/resolve?view=all", {"resolution": "New price list in v2"},
                         follow_redirects=True)
    assert "resolved" in response.get_data(as_text=True)
    assert "Pricing sheet 2025" not in client.get("/manage/flags?view=all").get_data(as_text=True)
    resolved = client.get("/manage/flags?view=resolved").get_data(as_text=True)
    assert "New price list in v2" in resolved and colleague.name in resolved
    again = post_form(client, f"/manage/flags/{flag.id}/resolve", {"resolution": "x"}, follow_redirects=True)
    assert "already resolved" in again.get_data(as_text=True)


def test_flag_needs_a_known_reason_and_loses_nothing(client, login_as, make_asset):
    asset = make_asset()
    login_as("rep")
    response = post_form(client, f"/assets/{asset.id}/flag", {"reason": "boring", "note": "<b>x</b>"})
    assert response.status_code == 400 and "Say what is wrong" in response.get_data(as_text=True)
    assert db.session.scalars(select(Flag)).all() == []


def test_reps_do_not_see_the_flag_queue_or_others_flags(client, login_as, make_asset, make_user):
    asset = make_asset()

    flags.raise_flag(make_user("rep"), asset, "wrong", "Secret note")
    login_as("rep")
    assert client.get("/manage/flags").status_code == 403
    page = client.get(f"/assets/{asset.id}").get_data(as_text=True)
    assert "Secret note" not in page and "Flag as outdated or wrong" in page


def test_flag_note_is_escaped_in_the_queue(client, login_as, make_asset, make_user):
    asset = make_asset()

    flags.raise_flag(make_user("rep"), asset, "other", "<script>alert(1)</script>")
    login_as("marketer")
    page = client.get("/manage/flags?view=all").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page


def test_reps_are_warned_of_an_open_wrong_flag_until_it_is_resolved(client, make_user, make_asset):
    asset = make_asset("Pricing sheet 2025")
    make_asset("Retail battlecard", kind="battlecard")
    flag = flags.raise_flag(make_user("rep"), asset, "wrong", "Wrong product names; had to apologise")
    login(client, make_user("rep").email)

    page = client.get(f"/assets/{asset.id}").get_data(as_text=True)
    assert f"Flagged as wrong or inaccurate on {flag.created_at.day}" in page
    assert f"{asset.owner.name} is checking it" in page
    assert "had to apologise" not in page  # the flagger's words stay between them and marketing
    results = client.get("/search?q=pricing").get_data(as_text=True)
    assert "⚠ Flagged: wrong" in results
    home = client.get("/").get_data(as_text=True)
    cards = home.split('<article class="card">')[1:]
    assert cards and all(("⚠ Flagged" in card) == ("Pricing sheet 2025" in card) for card in cards)
    # "Fresh" beside the flag would contradict it: the flagged card shows the flag alone
    assert all(("badge-fresh" in card) != ("Pricing sheet 2025" in card) for card in cards)

    flags.resolve(flag, asset.owner, "Product names fixed in v2")
    assert "Flagged" not in client.get(f"/assets/{asset.id}").get_data(as_text=True)
    assert "badge-fresh" in client.get("/search?q=pricing").get_data(as_text=True)
    assert "⚠ Flagged" not in client.get("/search?q=pricing").get_data(as_text=True)


def test_a_broken_link_flag_does_not_warn_reps_about_the_content(client, make_user, make_asset):
    asset = make_asset()
    flags.raise_flag(make_user("rep"), asset, "broken", "Video 404")
    login(client, make_user("rep").email)
    assert "Flagged" not in client.get(f"/assets/{asset.id}").get_data(as_text=True)


def test_resolving_tells_the_flagger_and_a_correction_tells_recent_users(app, client, make_user, make_asset):
    asset = make_asset("Pricing sheet 2025")
    flagger, recent, manager, long_ago = (make_user("rep"), make_user("rep"), make_user("manager"),
                                          make_user("rep"))
    for user in (recent, manager):
        usage.log_event("download", user=user, asset=asset, at=utcnow() - timedelta(days=3))
    usage.log_event("view", user=long_ago, asset=asset, at=utcnow() - timedelta(days=45))
    app.extensions["usage_log"].flush()

    first = flags.raise_flag(flagger, asset, "outdated", "Old prices")
    login(client, asset.owner.email)
    post_form(client, f"/manage/flags/{first.id}/resolve", {"resolution": "Prices were right after all"})
    second = flags.raise_flag(flagger, asset, "wrong", "Wrong logo")
    post_form(client, f"/manage/flags/{second.id}/resolve?view=all",
              {"resolution": "New logo in v2", "content_changed": "y"})
    post_form(client, "/logout")

    def notifications_of(user) -> str:
        login(client, user.email)
        page = client.get("/notifications").get_data(as_text=True)
        post_form(client, "/logout")
        return page

    told = notifications_of(flagger)
    owner = asset.owner.name
    assert f"{owner} resolved your flag on “Pricing sheet 2025”: Prices were right after all" in told
    assert f"{owner} resolved your flag on “Pricing sheet 2025”: New logo in v2" in told
    assert f'href="/assets/{asset.id}"' in told
    assert "which you used recently" not in told  # the flagger hears once, as the flagger
    for user in (recent, manager):
        page = notifications_of(user)
        assert "“Pricing sheet 2025”, which you used recently, was corrected: New logo in v2" in page
        assert "Prices were right after all" not in page
    assert "Pricing sheet 2025" not in notifications_of(long_ago)
