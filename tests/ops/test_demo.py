"""The demo: a realistic library, one account per role, and a skewed 90-day history.

`flask seed-demo` runs once per test process (it builds and imports a whole library), and both
tests run on that process (`make test` distributes whole files: --dist loadfile); each test gets a
copy of what it made: database, stored files, built collateral and search index.
"""
import shutil
from collections import Counter

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from app.extensions import db
from app.models import Asset, AssetKind, Collection, Dimension, Rating, Stage, UsageEvent, User
from app.ops import demo
from app.web import branding
from tests import databases
from tests.conftest import login, post_form, site

SEEDED_DIRS = ("files", "demo-collateral", "search-index")


@pytest.fixture(scope="session")
def seeded(tmp_path_factory, template_db):
    """A site on which `flask seed-demo` ran, and what the command answered."""
    data_dir = tmp_path_factory.mktemp("demo")
    with site(data_dir, template_db, OFFICE_PREVIEWS=True) as app:  # the demo's decks and documents converted
        result = app.test_cli_runner().invoke(args=["seed-demo"])
        app.extensions["usage_log"].flush()
    yield data_dir, result
    databases.drop(data_dir)


@pytest.fixture
def app(tmp_path, seeded):
    """A copy of the seeded site."""
    data_dir, _ = seeded
    for name in SEEDED_DIRS:
        if (data_dir / name).exists():
            shutil.copytree(data_dir / name, tmp_path / name, symlinks=True)
    with site(tmp_path, data_dir) as application:
        yield application
    databases.drop(tmp_path)


def test_seed_demo_builds_a_library_people_can_use(app, seeded):
    result = seeded[1]
    assert result.exit_code == 0, result.output
    assert "Demo ready" in result.output and "assets created" in result.output
    assets = list(db.session.scalars(select(Asset)))
    assert 55 <= len(assets) <= 65
    assert {a.kind for a in assets} == {k.value for k in AssetKind}
    for dimension in db.session.scalars(select(Dimension)):
        assert {t.name for t in dimension.terms} >= set(demo.DIMENSIONS[dimension.name])
    assert [s.name for s in db.session.scalars(select(Stage).order_by(Stage.position))] == demo.STAGES
    brochure = next(a for a in assets if a.title == "Lumenfold Platform Overview")
    pdf_path = app.config["FILES_DIR"] / brochure.current_version.stored_name
    assert len(PdfReader(pdf_path).pages) >= 3 and brochure.current_version.thumbnail_name
    assert "Lumenfold Insight" in brochure.current_version.text
    decks = [a for a in assets if a.current_version and a.current_version.file_type in ("pptx", "docx")]
    assert len(decks) == 8
    for deck in decks:  # converted at import: pages to page through, and page 1 as the thumbnail
        version = deck.current_version
        assert version.preview_name and version.thumbnail_name and version.preview_note == "", deck.title
        assert len(PdfReader(app.config["FILES_DIR"] / version.preview_name).pages) == version.page_count
    deck = next(a for a in decks if a.title == "First Meeting Deck: Lumenfold in 10 Slides")
    assert deck.current_version.page_count >= 4
    audiences = {a.title: a.audience for a in assets}
    assert audiences["Pricing and Discount Guidance"] == "internal"
    assert audiences["Battlecard: Lumenfold vs. OpsGrid"] == "internal"
    assert audiences["Email: First Touch to a Hospital COO"] == "internal"
    assert audiences["Mutual Action Plan Template"] == "customer"  # a messaging asset sent to customers
    assert audiences["Lumenfold Platform Overview"] == "customer"
    brand = branding.current()
    assert brand.name == "Lumenfold" and brand.logo_png.startswith(b"\x89PNG")
    for email in ("admin@example.com", "marketer@example.com", "manager@example.com", "rep@example.com"):
        assert login(app.test_client(), email, demo.DEMO_PASSWORD).status_code == 302, email
    teams = Counter(u.team.name for u in db.session.scalars(select(User).where(User.role == "rep")))
    assert len(teams) == 2 and sum(teams.values()) >= 5
    rep = app.test_client()
    login(rep, "rep@example.com", demo.DEMO_PASSWORD)
    (kept,) = db.session.scalars(select(Collection)).all()
    added = post_form(rep, "/kits/new", {"collection": str(kept.id), "add_collection": "1"}, follow_redirects=True)
    assert "Added 3 from “Healthcare decision stage”." in added.get_data(as_text=True)


def test_demo_history_is_skewed_and_rerunning_changes_nothing(app):
    runner = app.test_cli_runner()
    uses = Counter(db.session.scalars(select(UsageEvent.asset_id).where(
        UsageEvent.kind.in_(["view", "download", "copy"]))))
    published = db.session.scalar(select(func.count()).select_from(Asset).where(Asset.status == "published"))
    assert len(uses) < published * 0.7  # many assets never used
    top, *rest = sorted(uses.values(), reverse=True)
    assert top > 5 * sorted(rest)[len(rest) // 2]  # a few assets used heavily
    rep_ids = set(db.session.scalars(select(User.id).where(User.role == "rep")))
    active = set(db.session.scalars(select(UsageEvent.user_id).distinct()))
    assert rep_ids - active, "one rep never used the portal"
    events = db.session.scalar(select(func.count()).select_from(UsageEvent))
    assets = db.session.scalar(select(func.count()).select_from(Asset))
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0 and "0 assets created, 0 updated, 0 usage events" in again.output
    assert db.session.scalar(select(func.count()).select_from(UsageEvent)) == events
    assert db.session.scalar(select(func.count()).select_from(Asset)) == assets
    assert db.session.scalar(select(func.count()).select_from(Collection)) == 1
    first_run = runner.invoke(args=["seed-demo", "--first-run"])
    assert "already present" in first_run.output


def test_demo_comments_read_like_different_people_on_the_asset_they_are_on(app):
    rated = [r for r in db.session.scalars(select(Rating)) if r.comment]
    assert len(rated) >= 10
    texts = Counter(r.comment for r in rated)
    assert texts.most_common(1)[0][1] <= 2, texts.most_common(3)  # no stock sentence pasted everywhere
    about_it = 0
    for rating in rated:  # each names something of its own asset: product, industry, stage, title or kind
        asset = db.session.get(Asset, rating.asset_id)
        own = {asset.product, asset.kind_label.lower(), *(t.name for t in asset.terms),
               *(s.name.lower() for s in asset.stages), asset.title.split(" for ")[-1]} - {"", None}
        about_it += any(word.lower() in rating.comment.lower() for word in own)
    assert about_it >= 0.6 * len(rated)
    voices = {r.user.email for r in rated}
    assert len(voices) >= 3


def test_demo_deals_show_content_that_wins_and_popular_content_that_does_not(app):
    from app.insights import influence
    from app.insights.scope import last_days
    from app.models import Account, Opportunity

    assert db.session.scalar(select(func.count()).select_from(Account)) == 40
    statuses = Counter(db.session.scalars(select(Opportunity.status)))
    assert sum(statuses.values()) == 150 and 40 <= statuses["won"] + statuses["lost"] <= 65  # about a third closed
    sent = db.session.scalar(select(func.count()).select_from(UsageEvent).where(UsageEvent.opportunity_id.isnot(None)))
    assert sent > 300
    absent = db.session.scalar(select(User.id).where(User.email == "casey@example.com"))
    assert db.session.scalar(select(func.count()).select_from(Opportunity).where(Opportunity.owner_id == absent)) == 0
    found = {a.title: a for a in influence.influence(last_days(120)).assets}
    for winner in ("ROI Summary: The Numbers Behind Lumenfold", "Mutual Action Plan Template"):
        assert found[winner].shown and found[winner].interval[1] > 0, winner  # the whole interval above zero
    for popular in ("Lumenfold Platform Overview", "First Meeting Deck: Lumenfold in 10 Slides"):
        difference, low, high = found[popular].interval
        assert found[popular].deals_with > found[winner].deals_with and low < 0 < high, popular


def test_demo_rooms_have_buyer_visits_logged_with_their_deal(app):
    from app.models import DealRoom

    rooms = list(db.session.scalars(select(DealRoom)))
    assert 3 <= len(rooms) <= 6 and len({r.user_id for r in rooms}) == len(rooms)
    assert sum(r.first_visit_at is not None for r in rooms) >= 3
    for room in rooms:
        assert room.opportunity.is_open and room.user_id == room.opportunity.owner_id
        assert room.items and not any(i.asset.is_internal for i in room.items)
        buyer = [e for e in db.session.scalars(select(UsageEvent).where(UsageEvent.kind.like("share_%")))
                 if e.context.get("room_id") == room.id]
        assert {e.opportunity_id for e in buyer} <= {room.opportunity_id}
        assert bool(buyer) == (room.first_visit_at is not None)
