"""Reps and managers rate assets; one rating per person and asset, editable; every rating is logged."""
import threading

from sqlalchemy import func, select

from app.extensions import db
from app.models import Rating, UsageEvent
from tests.conftest import csrf_token, login, post_form


def test_rep_rates_with_comment_and_deal_then_edits(client, login_as, make_asset):
    asset = make_asset("ROI one-pager")
    rep = login_as("rep", name="Riley Park")
    response = post_form(client, f"/assets/{asset.id}/rate",
                         {"stars": "4", "comment": "Opened the CFO meeting", "account": "Acme", "outcome": "won"})
    assert response.status_code == 302
    page = client.get(f"/assets/{asset.id}").get_data(as_text=True)
    assert "★ 4.0 from 1 rating" in page and "Opened the CFO meeting" in page and "Acme" in page
    post_form(client, f"/assets/{asset.id}/rate", {"stars": "2", "comment": "Numbers out of date"})
    assert db.session.scalar(select(func.count()).select_from(Rating)) == 1
    rating = db.session.scalar(select(Rating))
    assert (rating.user_id, rating.stars, rating.comment, rating.outcome) == (rep.id, 2, "Numbers out of date", "")
    events = db.session.scalars(select(UsageEvent).where(UsageEvent.kind == "rate")).all()
    assert [e.context["stars"] for e in events] == [4, 2]
    assert events[0].context["outcome"] == "won" and events[0].context["account"] == "Acme"


def test_ratings_average_across_people(app, client, login_as, make_asset, make_user):
    asset = make_asset()
    for stars in ("5", "3"):
        browser = app.test_client()
        user = make_user("manager")
        post_form(browser, "/login", {"email": user.email, "password": "correct-horse-battery"})
        post_form(browser, f"/assets/{asset.id}/rate", {"stars": stars})
    login_as("rep")
    assert "★ 4.0 from 2 ratings" in client.get(f"/assets/{asset.id}").get_data(as_text=True)


def test_stars_out_of_range_are_refused(client, login_as, make_asset):
    asset = make_asset()
    login_as("rep")
    response = post_form(client, f"/assets/{asset.id}/rate", {"stars": "9"})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Rating)) == 0


def test_marketers_do_not_rate(client, login_as, make_asset):
    asset = make_asset()
    login_as("marketer")
    assert post_form(client, f"/assets/{asset.id}/rate", {"stars": "5"}).status_code == 403
    assert "Rate this asset" not in client.get(f"/assets/{asset.id}").get_data(as_text=True)


def test_a_double_submit_keeps_one_rating_and_fails_neither(app, make_user, make_asset):
    """The same rep submits twice at the same moment (a double click, two tabs): both requests
    succeed, one rating remains, and both submits are logged."""
    rep = make_user("rep")
    for attempt in range(3):
        asset = make_asset(f"Pricing sheet {attempt}")
        browsers = [app.test_client(), app.test_client()]
        tokens = []
        for browser in browsers:
            login(browser, rep.email)
            tokens.append(csrf_token(browser, f"/assets/{asset.id}"))
        statuses = at_once([(browser, f"/assets/{asset.id}/rate", {"stars": stars, "csrf_token": token})
                            for browser, token, stars in zip(browsers, tokens, ("4", "5"), strict=True)])
        assert statuses == [302, 302]
        [rating] = db.session.scalars(select(Rating).where(Rating.asset_id == asset.id)).all()
        assert rating.user_id == rep.id and rating.stars in (4, 5)
        logged = db.session.scalars(select(UsageEvent).where(UsageEvent.kind == "rate",
                                                             UsageEvent.asset_id == asset.id))
        assert sorted(e.context["stars"] for e in logged) == [4, 5]


def at_once(posts: list[tuple]) -> list[int]:
    """Send each (client, url, form) POST from its own thread, all released at the same moment."""
    together, statuses = threading.Barrier(len(posts)), []

    def send(client, url, form):
        with client.application.app_context():  # a thread of its own, as a second browser tab's request
            together.wait()
            statuses.append(client.post(url, data=form).status_code)

    threads = [threading.Thread(target=send, args=post) for post in posts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return statuses
