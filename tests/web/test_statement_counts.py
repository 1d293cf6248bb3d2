"""No page runs a query per item it shows.

The same world is built at two sizes, SMALL and LARGE items of every kind (assets, the rep's
documents, share links, collections and a collection's assets, kit parts, reps, ratings, flags,
searches); each main page is requested in both and the SQL statements it runs are counted. A page
that loads what it shows with one query per kind of row runs as many statements for 30 items as
for 3; a page that lazy-loads something per item runs ten times more. A search is not an item:
on PostgreSQL the search backend's own reads (its tables, a few statements per search) are left
out, as Whoosh's index reads are, so the content gaps page may search once per gap it lists.
"""
from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from sqlalchemy import event

from app import search, usage
from app.database import transaction
from app.deals import plays, records
from app.documents import kits
from app.extensions import db
from app.library import assets, collections, flags, ratings, taxonomy
from app.models import GeneratedDocument
from app.sharing import links
from tests import databases
from tests.conftest import login, site
from tests.factories import new_asset, new_user

SMALL, LARGE = 3, 30
# What the PostgreSQL search backend reads to answer one search (app/search/postgres/).
SEARCH_BACKEND_READS = re.compile(
    r"\b(search_(document|posting|pair|gone|word|generation)|pg_current_snapshot|to_tsvector)\b")
PAGES = [
    ("rep", "/"),
    ("rep", "/search?q=roi"),
    ("rep", "/search?term={industry}"),
    ("rep", "/assets/{asset}"),
    ("rep", "/documents"),
    ("rep", "/collections"),
    ("rep", "/collections/{collection}"),
    ("rep", "/shares"),
    ("rep", "/kits/new"),
    ("rep", "/deals/"),
    ("rep", "/deals/{deal}"),
    ("manager", "/deals/"),
    ("marketer", "/deals/plays"),
    ("marketer", "/manage/"),
    ("marketer", "/manage/flags"),
    ("admin", "/admin/users"),
    *[(role, f"/insights/{page}") for role in ("marketer", "manager")
      for page in ("", "usage", "ignored", "coverage", "adoption", "ratings", "gaps", "finding", "influence",
                   "shares")],
]


def new_document(user, asset, n: int) -> GeneratedDocument:
    """A kept customized document as `generate.generate` leaves it, without rendering its PDF
    (rendering 33 PDFs would be most of this module's time and no part of what it tests)."""
    with transaction():
        document = GeneratedDocument(user_id=user.id, asset_id=asset.id, template_version=1,
                                     account=f"Account {n}", title=f"{asset.title} — Account {n}",
                                     values={"customer": f"Account {n}"}, stored_name=f"doc-{n:04d}.pdf",
                                     page_count=2, size_bytes=1000)
        db.session.add(document)
    return document


def build_world(size: int) -> dict:
    """`size` items of every kind a main page lists; returns the ids the pages' URLs need."""
    rep = new_user("rep@example.com", "rep", "Team East")
    marketer = new_user("marketer@example.com", "marketer", "Marketing")
    new_user("manager@example.com", "manager", "Team East")
    new_user("admin@example.com", "admin", None)
    reps = [rep] + [new_user(f"rep{n}@example.com", "rep", "Team East") for n in range(size - 1)]
    made = [new_asset(marketer, f"ROI one-pager {n}", terms=["Retail", "Healthcare"][: 1 + n % 2],
                      stages=["Decision", "Awareness"][: 1 + n % 2], tags=["roi", f"tag{n}"],
                      body=f"ROI talk track {n} for retail buyers") for n in range(size)]
    search.sync()
    retail, _ = taxonomy.terms_by_name(["Retail"])
    decision, _ = taxonomy.stages_by_name(["Decision"])
    deals = [records.save(rep, records.OpportunityData(
        name=f"Deal {n}", account_name=f"Account {n}", external_id=f"D{n}", account_term_ids=[retail[0].id],
        stage_id=decision[0].id, status=["open", "won", "lost"][n % 3]), source="app")[0] for n in range(size)]
    for asset in made:
        plays.pin(marketer, retail[0].id, decision[0].id, asset.id, "Pinned")
    for n, (asset, person) in enumerate(zip(made, reps, strict=True)):
        assets.open_asset(person, asset.id)
        assets.download(person, asset)
        ratings.rate(person, made[0], 1 + n % 5, f"Comment {n}")
        ratings.rate(person, asset, 1 + n % 5)
        flags.raise_flag(person, asset, "outdated", f"Note {n}")
        search.run_search(person, search.build_request(person, text=f"missing{n} topic"))
        links.create_link(rep, asset=asset, recipient_email=f"buyer{n}@example.com",
                          opportunity=deals[n] if deals[n].is_open else None)
        usage.log_event("share", user=rep, asset=asset, opportunity=deals[(n + 1) % size])
        new_document(rep, asset, n)
        collections.create(rep, f"Collection {n}", [asset.id])
    largest = collections.create(rep, "Everything", [a.id for a in made])
    kits.add_all(rep, made)
    usage.flush()
    industry = next(t.id for a in made for t in a.terms if t.name == "Retail")
    return {"asset": made[0].id, "collection": largest.id, "industry": industry, "deal": deals[0].id}


@pytest.fixture(scope="session")
def worlds(tmp_path_factory, template_db) -> dict[int, tuple[Path, dict]]:
    """Both worlds, built once per test process into databases each test copies."""
    built = {}
    for size in (SMALL, LARGE):
        data_dir = tmp_path_factory.mktemp(f"statements-{size}")
        with site(data_dir, template_db) as app:
            built[size] = (data_dir, build_world(size))
            app.extensions["usage_log"].flush()
    yield built
    for data_dir, _ in built.values():
        databases.drop(data_dir)


def statements_for(tmp_path: Path, template: Path, ids: dict, role: str, path: str) -> int:
    """SQL statements one request to `path` runs, as `role`, after a first request has warmed
    what a running server keeps (the search index, opened from the copied database)."""
    tmp_path.mkdir()
    with site(tmp_path, template) as app:
        client = app.test_client()
        assert login(client, f"{role}@example.com").status_code == 302
        url = path.format(**ids)
        assert client.get(url).status_code == 200
        counted = [0]
        me = threading.get_ident()

        def count(connection, _cursor, statement: str, *_):
            # The usage log's batch (the events and the summaries kept with them) is written by its
            # thread, or by the test client's flush when the request took longer than USAGE_FLUSH_MS:
            # either way not the page's own statements.
            if threading.get_ident() == me and not connection.get_execution_options().get("usage_writer") \
                    and not SEARCH_BACKEND_READS.search(statement):
                counted[0] += 1

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            html = client.get(url).get_data(as_text=True)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
    databases.drop(tmp_path)
    assert not re.search(r"<h1>\s*(Not found|Server error)", html)
    return counted[0]


@pytest.mark.parametrize(("role", "path"), PAGES, ids=[f"{role}:{path}" for role, path in PAGES])
def test_a_page_runs_as_many_statements_for_30_items_as_for_3(tmp_path, worlds, role, path):
    small = statements_for(tmp_path / "small", worlds[SMALL][0], worlds[SMALL][1], role, path)
    large = statements_for(tmp_path / "large", worlds[LARGE][0], worlds[LARGE][1], role, path)
    assert large == small, f"{path} as {role}: {small} statements for {SMALL} items, {large} for {LARGE}"
