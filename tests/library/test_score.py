"""The content score on a known world: three assets whose uses, ratings, prospect opens and freshness
are set by hand, each score worked out here from the formula in the README, not from the code."""
import math
import re
from datetime import timedelta

import pytest
from sqlalchemy import update

from app import usage
from app.database import transaction
from app.extensions import db
from app.library import flags, ratings, score
from app.models import Asset, utcnow
from tests.conftest import login
from tests.insights.reading import csv_rows


def log_share(count, full):
    return min(1.0, math.log(1 + count) / math.log(1 + full))


@pytest.fixture
def world(make_asset, make_user):
    """Star: 45 uses, two 5-star ratings, 25 prospect opens, fresh. Dusty: nothing but a 1-star rating,
    unchecked for 200 days. Flagged: 3 recent uses (and 10 from 100 days ago), 1 prospect open, flagged wrong."""
    star, dusty, flagged = make_asset("Star case study"), make_asset("Dusty brochure"), make_asset("Flagged sheet")
    reps = [make_user("rep") for _ in range(3)]
    now = utcnow()
    rows = [usage.event_row("view", user=reps[n % 3], asset=star, at=now - timedelta(days=n % 80)) for n in range(45)]
    rows += [usage.event_row("share_open", asset=star, at=now - timedelta(days=n % 60)) for n in range(25)]
    rows += [usage.event_row("download", user=reps[0], asset=flagged, at=now - timedelta(days=n)) for n in range(3)]
    rows += [usage.event_row("view", user=reps[1], asset=flagged, at=now - timedelta(days=100)) for _ in range(10)]
    rows += [usage.event_row("share_open", asset=flagged, at=now - timedelta(days=2))]
    usage.record(rows)
    ratings.rate(reps[0], star, 5)
    ratings.rate(reps[1], star, 5)
    ratings.rate(reps[2], dusty, 1)
    flags.raise_flag(reps[2], flagged, "wrong", "Old product names")
    with transaction():
        db.session.execute(update(Asset).where(Asset.id == dusty.id)
                           .values(verified_at=now - timedelta(days=200), updated_at=Asset.updated_at))
    return {"star": star, "dusty": dusty, "flagged": flagged}


EXPECTED = {
    # use 35 × 1 (45 ≥ 40 uses) + ratings 25 × ((10 + 2·3) / 4 − 1) / 4 + engagement 20 × 1 + fresh 20
    "star": 35 + 25 * 0.75 + 20 + 20,
    # no use, ratings 25 × ((1 + 6) / 3 − 1) / 4, no opens, needs review 20 × 0.25
    "dusty": 0 + 25 * ((7 / 3) - 1) / 4 + 0 + 5,
    # 3 uses of 40 (the old ones are outside 90 days), no rating: 12.5, 1 open of 20, flagged: 0
    "flagged": 35 * log_share(3, 40) + 12.5 + 20 * log_share(1, 20) + 0,
}


def test_scores_follow_the_documented_formula(world):
    found = score.scores([a.id for a in world.values()])
    assert {name: found[a.id].total for name, a in world.items()} == {k: round(v) for k, v in EXPECTED.items()}
    star = {c.key: (c.points, c.detail) for c in found[world["star"].id].components}
    assert star == {"use": (35.0, "45 uses in 90 days"), "rating": (18.8, "★ 5.0 from 2 ratings"),
                    "engagement": (20.0, "25 prospect opens in 90 days"), "freshness": (20.0, "fresh"),
                    "deals": (0.0, "no deals recorded yet")}
    assert sum(score.WEIGHTS.values()) == 100 and score.WEIGHTS["deals"] == 0
    flagged = {c.key: c.detail for c in found[world["flagged"].id].components}
    assert flagged["freshness"] == "flagged as wrong or outdated" and flagged["use"] == "3 uses in 90 days"


def test_manage_content_sorts_by_score_and_shows_its_parts(client, world, make_user):
    login(client, make_user("marketer", team="Marketing").email)
    page = client.get("/manage/?sort=score").get_data(as_text=True)
    order = [t for t in re.findall(r'<td><a href="/manage/\d+/edit">([^<]+)</a>', page)]
    assert order == ["Star case study", "Flagged sheet", "Dusty brochure"]
    assert "<dt>Buyer engagement</dt><dd>20 / 20" in page
    low = client.get("/manage/?sort=score_low").get_data(as_text=True)
    assert re.findall(r'<td><a href="/manage/\d+/edit">([^<]+)</a>', low) == order[::-1]
    assert client.get("/manage/?sort=nonsense").status_code == 200


def test_insights_scores_page_and_csv_agree(client, world, make_user):
    login(client, make_user("marketer", team="Marketing").email)
    page = client.get("/insights/scores").get_data(as_text=True)
    assert page.index("Star case study") < page.index("Flagged sheet") < page.index("Dusty brochure")
    rows = csv_rows(client, "/insights/scores?format=csv&table=content-score&sort=score_low")
    assert [r[0] for r in rows[1:]] == ["Dusty brochure", "Flagged sheet", "Star case study"]
    assert [int(r[3]) for r in rows[1:]] == [round(EXPECTED[k]) for k in ("dusty", "flagged", "star")]
    assert rows[0][4:] == ["Use (of 35)", "Ratings (of 25)", "Buyer engagement (of 20)", "Freshness (of 20)",
                           "Deal influence (of 0)"]
