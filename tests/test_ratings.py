"""Reps and managers rate assets; one rating per person and asset, editable; every rating is logged."""
from sqlalchemy import func, select

from app.extensions import db
from app.models import Rating, UsageEvent

from .conftest import post_form


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
