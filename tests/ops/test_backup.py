"""`flask backup` and `flask restore`: a round trip brings back every row, file and login."""
from __future__ import annotations

import stat
import tarfile

import pytest
from sqlalchemy import select

from app import create_app, usage
from app.extensions import db
from app.library import ratings
from app.ops import backup, restore
from app.sharing import links
from tests import databases
from tests.conftest import IsolatedClient, app_config, login


def every_row() -> dict[str, list[tuple]]:
    """Each table's rows, in primary-key order."""
    return {t.name: [tuple(r) for r in db.session.execute(select(t).order_by(*t.primary_key.columns))]
            for t in backup.tables()}


@pytest.fixture
def populated(app, make_user, make_asset, sample_files):
    rep = make_user("rep", email="riley@example.com")
    brochure = make_asset("Hospital ROI brochure", upload=(sample_files.pdf(pages=["Readmission savings"]),
                                                           "roi.pdf"))
    make_asset("Pricing talk track", kind="messaging", body="Lead with **total cost**.")
    ratings.rate(rep, brochure, 4, "Landed well", "Mercy Regional", "won")
    link = links.create_link(rep, asset=brochure, recipient_email="cfo@mercy.example")
    for kind in ("view", "download", "share"):
        usage.log_event(kind, user=rep, asset=brochure, note="Ünïcode")
    usage.flush()
    return {"brochure": brochure.id, "token": link.token,
            "pdf": (app.config["FILES_DIR"] / brochure.current_version.stored_name).read_bytes()}


@pytest.fixture
def second_site(tmp_path, template_db):
    """Another installation: its own data directory, its files apart from it (on another mount, as on
    several machines), and an empty, migrated database."""
    data_dir = tmp_path / "elsewhere"
    data_dir.mkdir()
    databases.create(data_dir, template_db)
    other = create_app(app_config(data_dir, FILES_DIR=tmp_path / "shared-mount" / "files"))
    other.test_client_class = IsolatedClient
    yield other
    with other.app_context():
        other.extensions["usage_log"].close()
        other.extensions["pdf_renderer"].close()
        db.session.remove()
        db.engine.dispose()
    databases.drop(data_dir)


def test_round_trip_restores_rows_files_logins_search_and_share_links(app, populated, second_site, tmp_path):
    archive = tmp_path / "bridge-backup.tar.gz"
    made = app.test_cli_runner().invoke(args=["backup", "--out", str(archive)])
    assert made.exit_code == 0, made.output
    assert "Backed up" in made.output and "2 files" in made.output  # the PDF and its thumbnail
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600  # it holds the secret key
    with tarfile.open(archive) as contents:
        names = contents.getnames()
    assert "manifest.json" in names and "database/usage_event.jsonl" in names
    assert not any(n.startswith("/") or ".." in n for n in names)
    original = every_row()
    db.session.remove()

    with second_site.app_context():
        restored = second_site.test_cli_runner().invoke(args=["restore", str(archive)])
        assert restored.exit_code == 0, restored.output
        assert "Search index rebuilt: 2 assets" in restored.output
        assert every_row() == original
        assert [p.name for p in second_site.config["FILES_DIR"].parent.iterdir()] == ["files"]  # nothing staged left
        client = second_site.test_client()
        assert login(client, "riley@example.com").status_code == 302
        with client.get(f"/assets/{populated['brochure']}/download") as download:
            assert download.data == populated["pdf"]
        found = client.get("/api/v1/search?q=readmission").get_json()
        assert [r["title"] for r in found["results"]] == ["Hospital ROI brochure"]
        assert second_site.test_client().get(f"/s/{populated['token']}").status_code == 200


def test_restore_refuses_a_database_that_is_not_empty_unless_replacing(app, populated, tmp_path):
    archive = tmp_path / "b.tar.gz"
    backup.create(archive)
    before = every_row()
    usage.log_event("view", note="made after the backup")
    usage.flush()
    refused = app.test_cli_runner().invoke(args=["restore", str(archive)])
    assert refused.exit_code != 0 and "not empty" in refused.output and "--replace" in refused.output
    assert len(every_row()["usage_event"]) == len(before["usage_event"]) + 1  # untouched
    replaced = app.test_cli_runner().invoke(args=["restore", "--replace", str(archive)])
    assert replaced.exit_code == 0, replaced.output
    db.session.expire_all()
    assert every_row() == before  # back to the moment of the backup


def test_a_bad_archive_is_refused_and_changes_nothing(app, populated, tmp_path):
    before = every_row()
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a tar file at all")
    answer = app.test_cli_runner().invoke(args=["restore", "--replace", str(junk)])
    assert answer.exit_code != 0 and "Cannot read" in answer.output
    foreign = tmp_path / "foreign.tar.gz"
    with tarfile.open(foreign, "w:gz") as archive:
        archive.add(__file__, arcname="notes.txt")
    answer = app.test_cli_runner().invoke(args=["restore", "--replace", str(foreign)])
    assert answer.exit_code != 0 and "not a Bridge backup" in answer.output
    truncated = tmp_path / "truncated.tar.gz"
    backup.create(truncated)
    data = truncated.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    answer = app.test_cli_runner().invoke(args=["restore", "--replace", str(truncated)])
    assert answer.exit_code != 0 and "damaged or incomplete" in answer.output
    db.session.expire_all()
    assert every_row() == before


def test_the_generated_secret_key_travels_with_the_backup(app, second_site, tmp_path, monkeypatch):
    (app.config["DATA_DIR"] / "secret_key").write_text("k" * 64)
    archive = tmp_path / "with-key.tar.gz"
    backup.create(archive)
    db.session.remove()
    monkeypatch.delenv("BRIDGE_SECRET_KEY")  # the key comes from the data directory, as by default
    with second_site.app_context():
        restore.restore(archive)
        key_file = second_site.config["DATA_DIR"] / "secret_key"
        assert key_file.read_text() == "k" * 64 and stat.S_IMODE(key_file.stat().st_mode) == 0o600
