"""deal_asset, the log's summary per deal and asset, kept by the event writer: after events logged in
several batches and out of time order, it equals a recount from the raw log (and the rebuild)."""
from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from app import usage
from app.extensions import db
from app.models import DealAsset, UsageEvent, utcnow
from tests.deals.conftest import new_deal

KINDS = ["share", "customize", "share_open", "share_page", "share_download", "view", "download", "copy", "rate",
         "search"]


def summary() -> dict:
    db.session.expire_all()
    return {(r.opportunity_id, r.asset_id): (r.first_sent_at, r.first_opened_at, r.uses)
            for r in db.session.scalars(select(DealAsset))}


def recount() -> dict:
    """From the raw log, by the definitions in usage.py."""
    found = {}
    for e in db.session.scalars(select(UsageEvent)):
        if e.opportunity_id is None or e.asset_id is None:
            continue
        sent, opened, uses = found.get((e.opportunity_id, e.asset_id), (None, None, 0))
        if e.kind in ("share", "customize"):
            sent = min(sent or e.created_at, e.created_at)
        if e.kind in ("share_open", "share_page", "share_download"):
            opened = min(opened or e.created_at, e.created_at)
        found[(e.opportunity_id, e.asset_id)] = (sent, opened, uses + (e.kind in usage.USE_KINDS))
    return found


def test_the_writer_keeps_deal_asset_equal_to_the_log(app, team, make_asset):
    rng = random.Random(7)
    assets = [make_asset(f"Asset {n}") for n in range(4)]
    deals = [new_deal(team["riley"], f"D{n}") for n in range(3)]
    now = utcnow()
    for _ in range(5):  # five batches, times in any order
        for _ in range(40):
            kind = rng.choice(KINDS)
            usage.log_event(kind, user=team["riley"], asset=None if kind == "search" else rng.choice(assets),
                            opportunity=rng.choice([*deals, None]), at=now - timedelta(minutes=rng.randint(0, 5000)))
        usage.flush()
    kept = summary()
    assert kept == recount() and len(kept) >= 8
    assert any(v[0] and v[1] for v in kept.values()), "some pairs were both sent and opened"
    assert usage.rebuild_deal_assets() == len(kept) and summary() == kept
