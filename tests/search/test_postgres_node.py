"""The PostgreSQL backend answers from a copy of the search tables in each process's memory
(app/search/postgres/arrays.py). What a node answers must still be what the database holds now:
another node's commits in whatever order they land, deletions, and never a rolled-back write."""
from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.extensions import db
from app.search.backend import Query, Word
from app.search.postgres.backend import PostgresBackend

pytestmark = pytest.mark.backends("postgres")


def found(node: PostgresBackend, word: str, session=None) -> list[int]:
    """What `node` answers for a word (a prefix with a trailing *), through `session` (the app's by default)."""
    query = Query(match=Word(word.rstrip("*"), prefix=word.endswith("*")), limit=20)
    if session is None:
        return node.match(query).ids
    scoped = db.session
    try:
        db.session = session  # the backend reads through db.session
        return node.match(query).ids
    finally:
        db.session = scoped


def retitle(asset_id: int, title: str) -> None:
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE asset SET title = :title, updated_at = now() - interval '1 day' "
                                "WHERE id = :id"), {"title": title, "id": asset_id})


def test_a_node_sees_other_writers_commits_in_any_order_and_their_deletions(app, make_asset, search_backend):
    roi = make_asset("Healthcare ROI calculator", body="Payback for hospitals.")
    store = make_asset("Retail store brochure", body="Store checklists.")
    db.session.commit()
    other = PostgresBackend()  # a second node: its own copy, read on its first search
    assert found(other, "calculator") == [roi.id]
    db.session.rollback()

    retitle(roi.id, "Healthcare savings model")  # another node's commit
    assert found(other, "calculator") == []
    assert found(other, "savings") == [roi.id]
    assert other.match(Query(newest_first=True, limit=20)).ids == [store.id, roi.id]  # its time, read again
    db.session.rollback()

    # The node has read these words' postings (none yet): they must follow the commits below.
    assert found(other, "zebra") == found(other, "zeb*") == found(other, "okapi") == []
    db.session.rollback()
    # A writer that began first commits last: its row's transaction id is older than the other's.
    first, second = Session(db.engine), Session(db.engine)
    try:
        first.execute(text("UPDATE asset SET title = 'Zebra pricing sheet', updated_at = now() + interval '2 days' "
                           "WHERE id = :id"), {"id": store.id})
        second.execute(text("UPDATE asset SET title = 'Okapi savings model' WHERE id = :id"), {"id": roi.id})
        second.commit()
        assert found(other, "okapi") == [roi.id]
        db.session.rollback()
        first.commit()
    finally:
        first.close()
        second.close()
    assert found(other, "zebra") == found(other, "zeb*") == [store.id]
    assert found(other, "okapi") == [roi.id]
    assert other.match(Query(newest_first=True, limit=20)).ids == [store.id, roi.id]
    assert PostgresBackend().match(Query(newest_first=True, limit=20)).ids == [store.id, roi.id]  # read whole
    db.session.rollback()

    with db.engine.begin() as connection:
        connection.execute(text("DELETE FROM asset WHERE id = :id"), {"id": store.id})
    assert found(other, "zebra") == []
    assert other.match(Query(limit=20)).total == 1


def test_a_node_forgets_what_its_own_rolled_back_transaction_wrote(app, make_asset, search_backend):
    roi = make_asset("Healthcare ROI calculator", body="Payback for hospitals.")
    db.session.commit()
    node = PostgresBackend()
    assert found(node, "calculator") == [roi.id]
    roi.title = "Quagga draft"
    db.session.flush()  # written, not committed: this transaction sees it
    assert found(node, "quagga") == [roi.id]
    db.session.rollback()
    assert found(node, "quagga") == []
    assert found(node, "calculator") == [roi.id]
    with Session(db.engine) as session:  # a new asset, never committed
        session.execute(text("INSERT INTO asset (title, description, kind, product, tags, status, body, url, audience, "
                             "created_at, updated_at, review_interval_days, verified_at) VALUES ('Yak guide', '', "
                             "'brochure', '', '[]', 'published', '', '', 'customer', now(), now(), 90, now())"))
        assert len(found(node, "yak", session)) == 1
        session.rollback()
    assert found(node, "yak") == []
    assert node.match(Query(limit=20)).total == 1
    db.session.delete(roi)
    db.session.flush()  # removed, not committed
    assert found(node, "calculator") == []
    db.session.rollback()
    assert found(node, "calculator") == [roi.id]
    assert node.match(Query(limit=20)).total == 1
