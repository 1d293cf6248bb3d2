"""Buyer engagement on the Influence page: deals whose buyer opened an asset (on a share link or in the
deal's room, events naming the deal) before it closed, apart from what the rep sent."""
from __future__ import annotations

from datetime import timedelta

from app import usage
from app.models import utcnow
from tests.deals.conftest import new_deal
from tests.insights.reading import csv_rows

BUYER_COLUMNS = ["Buyer opened (deals)", "Won opened", "Lost opened", "Win rate opened"]


def test_buyer_opens_are_counted_apart_from_what_the_rep_sent(app, team, make_asset, client_of):
    riley = team["riley"]
    guide, deck = make_asset("Buyer guide", terms=["Healthcare"]), make_asset("Pitch deck", terms=["Healthcare"])
    now = utcnow()
    closed = now - timedelta(days=2)
    deals = {name: new_deal(riley, name, status=status, at=closed)
             for name, status in (("W1", "won"), ("W2", "won"), ("L1", "lost"), ("L2", "lost"))}
    before, after = closed - timedelta(days=3), closed + timedelta(hours=1)
    rows = [
        # the rep sent the deck in all four; the buyer opened the guide, never sent, in W1 and L1
        *(usage.event_row("share", user=riley, asset=deck, opportunity=d, at=before) for d in deals.values()),
        usage.event_row("share_open", asset=guide, opportunity=deals["W1"], at=before),
        usage.event_row("share_page", asset=guide, opportunity=deals["W1"], at=before, page=2),
        usage.event_row("share_download", asset=guide, opportunity=deals["L1"], at=before),
        # not buyer engagement in a deal: after it closed, or on a link made for no deal
        usage.event_row("share_open", asset=guide, opportunity=deals["W2"], at=after),
        usage.event_row("share_open", asset=deck, at=before),
        # the buyer of W2 opened the deck before it closed
        usage.event_row("share_open", asset=deck, opportunity=deals["W2"], at=before),
    ]
    usage.record(rows)
    table = csv_rows(client_of(team["mara"]), "/insights/influence?days=30&format=csv")
    assert table[0][-4:] == BUYER_COLUMNS
    got = {r[0]: (r[1], r[2], *r[-4:]) for r in table[1:]}
    assert got == {"Pitch deck": ("4", "2", "1", "1", "0", ""), "Buyer guide": ("0", "0", "2", "1", "1", "")}


def test_win_rate_of_deals_whose_buyer_opened_shows_from_five_deals(app, team, make_asset, client_of):
    riley, guide = team["riley"], make_asset("Buyer guide", terms=["Healthcare"])
    closed = utcnow() - timedelta(days=1)
    for n, status in enumerate(["won", "won", "won", "lost", "lost"]):
        deal = new_deal(riley, f"D{n}", status=status, at=closed)
        usage.record([usage.event_row("share_open", asset=guide, opportunity=deal, at=closed - timedelta(hours=2))])
    table = csv_rows(client_of(team["mara"]), "/insights/influence?days=30&format=csv")
    assert table[1][0] == "Buyer guide" and table[1][-4:] == ["5", "3", "2", "60%"]
