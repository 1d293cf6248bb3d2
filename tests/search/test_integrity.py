"""No leaks and no drift: suggestions and corrections only from what the asker may see, results
re-checked against the database, a damaged index found by `check` and repaired without a 500."""
import pickle
import struct
from pathlib import Path

import pytest

from app.extensions import db
from app.jobs import worker
from app.models import Asset
from app.search import index
from tests.conftest import post_form


def suggested(client, prefix: str) -> dict[str, list[str]]:
    found = client.get("/search/suggest", query_string={"q": prefix}).get_json()["suggestions"]
    return {kind: [s["label"] for s in found if s["kind"] == kind] for kind in ("title", "tag")}


def test_suggestions_never_reveal_drafts_or_archived_assets(client, login_as, make_asset):
    make_asset("Zz secret launch", status="draft", tags=["zzsecretproject"])
    make_asset("Zz old deck", status="archived", tags=["zzarchived"])
    make_asset("Zz public brochure", tags=["zzpublic"])
    login_as("rep")
    assert suggested(client, "zz") == {"title": ["Zz public brochure"], "tag": ["zzpublic"]}
    post_form(client, "/logout")
    login_as("marketer")
    seen = suggested(client, "zz")
    assert set(seen["tag"]) == {"zzarchived", "zzpublic", "zzsecretproject"} and len(seen["title"]) == 3


def test_corrections_come_only_from_what_the_asker_may_see(client, login_as, make_asset):
    make_asset("Quixotic launch plan", status="draft", body="Codename for the spring launch.")
    login_as("rep")
    body = client.get("/api/v1/search?q=quixotik").get_json()
    assert body["total"] == 0 and body["corrected"] is None and body["suggestion"] is None
    post_form(client, "/logout")
    login_as("marketer")
    body = client.get("/api/v1/search?q=quixotik").get_json()
    assert body["corrected"] == "quixotic" and [r["title"] for r in body["results"]] == ["Quixotic launch plan"]


def test_an_asset_archived_before_the_index_follows_is_not_shown(client, login_as, make_asset):
    make_asset("Retail pricing sheet", body="pricing")
    retired = make_asset("Old pricing sheet", body="pricing")
    with db.engine.begin() as connection:  # behind the outbox's back: the index still says published
        connection.execute(Asset.__table__.update().where(Asset.id == retired.id).values(status="archived"))
    login_as("rep")
    page = client.get("/search?q=pricing").get_data(as_text=True)
    assert "Retail pricing sheet" in page and "Old pricing sheet" not in page
    assert [r["title"] for r in client.get("/api/v1/search?q=pricing").get_json()["results"]] == [
        "Retail pricing sheet"]
    assert client.get("/search/suggest?q=old").get_json()["suggestions"] == []


def _damage_the_postings_of_the_largest_segment() -> None:
    """Garbage (the same every run) over the middle half of the segment's postings: the index still
    opens, its table of contents and term lists read, but some words' posting blocks do not."""
    current = Path(index.backend().current_dir())
    largest = max((p for p in current.iterdir() if p.suffix == ".seg"), key=lambda p: p.stat().st_size)
    data = bytearray(largest.read_bytes())
    directory_at = struct.unpack(">q", data[:8])[0]  # a compound file's directory: name → offset, length
    parts = pickle.loads(data[directory_at:])
    postings = next(info for name, info in parts.items() if name.endswith(".pst"))
    start = postings["offset"] + postings["length"] // 4
    end = postings["offset"] + postings["length"] * 3 // 4
    data[start:end] = bytes((n * 97 + 13) % 256 for n in range(end - start))
    largest.write_bytes(bytes(data))


@pytest.mark.backends("whoosh")
@pytest.mark.parametrize("app", [{"JOBS_EAGER": False}], indirect=True)  # the repair waits for a worker
def test_a_damaged_segment_is_found_by_check_and_searches_recover_without_an_error(app, client, login_as,
                                                                                   make_asset):
    words = ["downtime", "pricing", "renewal", "onboarding", "audit", "hospital", "retail", "payback"]
    for n in range(60):
        make_asset(f"Asset {n} about {words[n % 8]}", body=" ".join(words[(n + k) % 8] for k in range(40)))
    index.rebuild()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["search", "check"]).exit_code == 0
    index.backend().forget()
    _damage_the_postings_of_the_largest_segment()
    checked = runner.invoke(args=["search", "check"])
    assert checked.exit_code == 1 and "unreadable: segment" in checked.output
    login_as("rep")
    answers = [client.get("/search", query_string={"q": word}) for word in words]
    assert {a.status_code for a in answers} == {200}
    pages = [a.get_data(as_text=True) for a in answers]
    assert any("Search is being repaired" in p for p in pages)
    assert all("Asset" in p for p in pages)  # the database answered meanwhile
    assert worker.run_next("test-worker")  # the one rebuild job the searches queued
    assert not worker.run_next("test-worker")
    assert runner.invoke(args=["search", "check"]).exit_code == 0
    for word in words:
        page = client.get("/search", query_string={"q": word}).get_data(as_text=True)
        assert "Search is being repaired" not in page and "60 results" in page
