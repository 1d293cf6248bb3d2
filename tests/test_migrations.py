"""Migrations build exactly the models' schema, go back down cleanly, and carry data across."""
import json
import re
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from app import create_app
from app.extensions import db
from app.search.postgres import not_search_table

from .conftest import app_config

VERSIONS = Path(__file__).resolve().parent.parent / "migrations" / "versions"


def test_upgrade_from_empty_matches_the_models_and_downgrade_removes_all(tmp_path):
    app = create_app(app_config(tmp_path))
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"include_object": not_search_table})
            diff = compare_metadata(context, db.metadata)
        assert diff == []
        assert {"asset", "asset_version", "usage_event", "user_account"} <= set(inspect(db.engine).get_table_names())
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) == {"alembic_version"}
        db.session.remove()
        db.engine.dispose()


def test_0008_gives_existing_assets_their_audience_by_kind_and_keeps_existing_links_live(tmp_path):
    app = create_app(app_config(tmp_path))
    with app.app_context():
        upgrade(revision="0007")
        now = "2026-11-01 09:00:00"
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO user_account (id, email, name, role, password_hash, active, session_token, created_at)"
                " VALUES (1, 'rep@example.com', 'Rep', 'rep', 'x', :yes, 'session-1', :now)"),
                {"now": now, "yes": True})
            for asset_id, kind in enumerate(["brochure", "messaging", "battlecard", "email_template", "slide_deck"],
                                            start=1):
                connection.execute(text(
                    "INSERT INTO asset (id, title, description, kind, product, tags, status, body, url, created_at,"
                    " updated_at) VALUES (:id, :title, '', :kind, '', '[]', 'published', '', '', :now, :now)"),
                    {"id": asset_id, "title": f"Asset {asset_id}", "kind": kind, "now": now})
            for version_id, number in ((1, 1), (2, 2)):
                connection.execute(text(
                    "INSERT INTO asset_version (id, asset_id, number, stored_name, original_filename, file_type,"
                    " mime_type, size_bytes, sha256, text, created_at) VALUES (:id, 1, :number, :name, 'b.pdf', 'pdf',"
                    " 'application/pdf', 10, 'x', '', :now)"), {"id": version_id, "number": number,
                                                                "name": f"v{number}.pdf", "now": now})
            connection.execute(text(
                "INSERT INTO share_link (id, token, user_id, asset_id, recipient_name, recipient_email, account,"
                " allow_download, created_at) VALUES (1, 'token-1', 1, 1, '', '', '', :yes, :now)"),
                {"now": now, "yes": True})
        upgrade()
        with db.engine.connect() as connection:
            audiences = dict(connection.execute(text("SELECT kind, audience FROM asset")).all())
            link = connection.execute(text("SELECT version_id, message, cta FROM share_link")).one()
        assert audiences == {"brochure": "customer", "messaging": "internal", "battlecard": "internal",
                             "email_template": "internal", "slide_deck": "customer"}
        assert tuple(link) == (2, "", "")  # the version current at upgrade: the link stays live
        downgrade(revision="base")
        db.session.remove()
        db.engine.dispose()


def test_segments_become_terms_of_industry_and_company_size_with_their_data(tmp_path):
    """0009 on a database with data: segments keep their ids as terms of the right dimension, assets
    keep their tags, logged searches name the dimension; going down gives the segments back."""
    app = create_app(app_config(tmp_path))
    with app.app_context():
        upgrade(revision="0008")
        with db.engine.begin() as connection:
            run = lambda sql, **values: connection.execute(text(sql), values)  # noqa: E731
            for n, name in enumerate(["Healthcare", "Mid-Market", "Atlantis"], start=1):
                run("INSERT INTO segment (id, name, position) VALUES (:n, :name, :n)", n=n, name=name)
            run("INSERT INTO user_account (id, email, name, role, password_hash, active, session_token, created_at) "
                "VALUES (1, 'm@example.com', 'M', 'marketer', 'x', true, 't', '2026-11-01')")
            run("INSERT INTO asset (id, title, description, kind, product, tags, status, body, url, created_at, "
                "updated_at) VALUES (1, 'Hospital ROI', '', 'one_pager', '', '[]', 'published', 'roi', '', "
                "'2026-11-01', '2026-11-01')")
            run("INSERT INTO asset_segment (asset_id, segment_id) VALUES (1, 1), (1, 2)")
            run("INSERT INTO usage_event (created_at, kind, user_id, context) VALUES ('2026-11-02', 'search', 1, "
                """'{"query": "roi", "results": 1, "filters": {"segment": ["Mid-Market", "Healthcare"]}}')""")
        upgrade()
        with db.engine.begin() as connection:
            terms = connection.execute(text("SELECT t.id, t.name, d.name FROM term t "
                                            "JOIN dimension d ON d.id = t.dimension_id ORDER BY t.id")).all()
            assert [tuple(t) for t in terms] == [(1, "Healthcare", "Industry"), (2, "Mid-Market", "Company size"),
                                                 (3, "Atlantis", "Industry")]
            assert connection.execute(text("SELECT term_id FROM asset_term ORDER BY term_id")).scalars().all() == [1, 2]
            added = connection.execute(text("INSERT INTO term (dimension_id, name, position) VALUES (1, 'Retail', 9) "
                                            "RETURNING id")).scalar()
            assert added == 4  # ids carry on after the kept ones (PostgreSQL's sequence too)
            context = connection.execute(text("SELECT context FROM usage_event")).scalar()
            filters = (json.loads(context) if isinstance(context, str) else context)["filters"]
            assert filters == {"Company size": ["Mid-Market"], "Industry": ["Healthcare"]}
        downgrade(revision="0008")
        with db.engine.begin() as connection:
            assert connection.execute(text("SELECT id, name FROM segment ORDER BY id")).all() == [
                (1, "Healthcare"), (2, "Mid-Market"), (3, "Atlantis"), (4, "Retail")]
            assert connection.execute(text("SELECT segment_id FROM asset_segment ORDER BY segment_id")
                                      ).scalars().all() == [1, 2]
            context = connection.execute(text("SELECT context FROM usage_event")).scalar()
            filters = (json.loads(context) if isinstance(context, str) else context)["filters"]
            assert filters == {"segment": ["Mid-Market", "Healthcare"]}
        db.session.remove()
        db.engine.dispose()


def test_0010_gives_existing_assets_a_review_interval_by_kind_and_keeps_their_versions(tmp_path):
    app = create_app(app_config(tmp_path))
    with app.app_context():
        upgrade(revision="0009")
        with db.engine.begin() as connection:
            for asset_id, kind in enumerate(["battlecard", "case_study", "one_pager"], start=1):
                connection.execute(text(
                    "INSERT INTO asset (id, title, description, kind, product, tags, status, body, url, created_at,"
                    " updated_at) VALUES (:id, :title, '', :kind, '', '[]', 'published', '', '', :created,"
                    " :updated)"), {"id": asset_id, "title": f"Asset {asset_id}", "kind": kind,
                                    "created": "2026-01-05 08:00:00", "updated": f"2026-0{asset_id}-10 09:30:00"})
                connection.execute(text(
                    "INSERT INTO asset_version (id, asset_id, number, stored_name, original_filename, file_type,"
                    " mime_type, size_bytes, sha256, text, created_at) VALUES (:id, :id, 1, :name, 'b.pdf', 'pdf',"
                    " 'application/pdf', 10, 'x', '', '2026-01-05 08:00:00')"),
                    {"id": asset_id, "name": f"{asset_id}.pdf"})
        upgrade()
        with db.engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT kind, review_interval_days, verified_at, verified_by_id FROM asset ORDER BY id")).all()
            versions = connection.execute(text("SELECT count(*) FROM asset_version")).scalar()
        assert [(kind, days, by) for kind, days, _at, by in rows] == [
            ("battlecard", 30, None), ("case_study", 180, None), ("one_pager", 90, None)]
        assert [str(at)[:10] for _k, _d, at, _b in rows] == ["2026-01-10", "2026-02-10", "2026-03-10"]
        assert versions == 3  # rebuilding the asset table cascaded to nothing
        db.session.remove()
        db.engine.dispose()


def test_0014_gives_existing_notifications_a_kind_from_their_wording(tmp_path):
    app = create_app(app_config(tmp_path))
    with app.app_context():
        upgrade(revision="0013")
        messages = ["Dr. Rivera (Mercy) opened “Platform brochure”.",
                    "Mara Quinn resolved your flag on “Pricing”: fixed",
                    "“Pricing”, which you used recently, was corrected.", "Something else"]
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO user_account (id, email, name, role, password_hash, active, session_token, created_at)"
                " VALUES (1, 'a@x', 'A', 'rep', 'x', :yes, 't', '2026-01-05 08:00:00')"), {"yes": True})
            for n, message in enumerate(messages, start=1):
                connection.execute(text("INSERT INTO notification (id, user_id, message, link, created_at)"
                                        " VALUES (:id, 1, :message, '', '2026-01-05 08:00:00')"),
                                   {"id": n, "message": message})
        upgrade()
        with db.engine.connect() as connection:
            kinds = connection.execute(text("SELECT kind FROM notification ORDER BY id")).scalars().all()
        assert kinds == ["share_open", "flag_resolved", "flag_resolved", ""]
        downgrade(revision="base")
        db.session.remove()
        db.engine.dispose()


def test_0013_gives_existing_assets_their_search_rows_on_postgresql(tmp_path):
    """On PostgreSQL, 0013 computes a row for every asset already there, and its triggers keep it;
    on SQLite it changes nothing (the Whoosh index is built from the database)."""
    before_0013 = re.search(r"down_revision = '(\d+)'", next(VERSIONS.glob("0013_*.py")).read_text())[1]
    app = create_app(app_config(tmp_path, SEARCH_BACKEND="whoosh"))
    with app.app_context():
        upgrade(revision=before_0013)
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO asset (id, title, description, kind, product, tags, status, body, url, created_at,"
                " updated_at, review_interval_days, verified_at, audience) VALUES (1, 'Hospital payback model', '',"
                " 'one_pager', 'Flow', '[\"roi\"]', 'published', 'Payback in months', '', '2026-11-01',"
                " '2026-11-01', 90, '2026-11-01', 'customer')"))
        before = set(inspect(db.engine).get_table_names())
        upgrade(revision="0013")
        tables = set(inspect(db.engine).get_table_names()) - before
        if db.engine.dialect.name == "postgresql":
            assert tables == {"search_document", "search_word", "search_note"}
            with db.engine.begin() as connection:
                found = connection.scalar(text("SELECT asset_id FROM search_document "
                                               "WHERE vector @@ to_tsquery('english', 'payback & hospital')"))
                connection.execute(text("UPDATE asset SET title = 'Clinic savings' WHERE id = 1"))
                renamed = connection.scalar(text("SELECT count(*) FROM search_document "
                                                 "WHERE vector @@ to_tsquery('english', 'clinic:A')"))
            assert found == 1 and renamed == 1
        else:
            assert tables == set()
        downgrade(revision=before_0013)
        assert set(inspect(db.engine).get_table_names()) == before
        downgrade(revision="base")
        db.session.remove()
        db.engine.dispose()


def insert_asset(description: str = "", product: str = "", tags: str = "[]") -> None:
    """Asset 1, "Hospital payback model" (body "Payback in months"), written in SQL as a schema of that
    revision holds it, before the migration under test runs."""
    with db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO asset (id, title, description, kind, product, tags, status, body, url, created_at,"
            " updated_at, review_interval_days, verified_at, audience) VALUES (1, 'Hospital payback model',"
            " :description, 'one_pager', :product, :tags, 'published', 'Payback in months', '', '2026-11-01',"
            " '2026-11-01', 90, '2026-11-01', 'customer')"),
            {"description": description, "product": product, "tags": tags})


class SearchStep:
    """One PostgreSQL search migration stepped over: an app at `below` with asset 1 (`insert_asset`),
    upgraded to `revision`; `added` is the tables it made, `on_postgres` whether it did anything."""

    def __init__(self, tmp_path, below: str, revision: str, **asset):
        self.app = create_app(app_config(tmp_path, SEARCH_BACKEND="whoosh"))
        self.below, self.revision, self.asset = below, revision, asset

    def __enter__(self):
        self.context = self.app.app_context()
        self.context.push()
        upgrade(revision=self.below)
        insert_asset(**self.asset)
        self.before = set(inspect(db.engine).get_table_names())
        upgrade(revision=self.revision)
        self.added = set(inspect(db.engine).get_table_names()) - self.before
        self.on_postgres = db.engine.dialect.name == "postgresql"
        return self

    def down(self) -> None:
        """Back to `below`, with exactly its tables."""
        downgrade(revision=self.below)
        assert set(inspect(db.engine).get_table_names()) == self.before

    def __exit__(self, *exc):
        downgrade(revision="base")
        db.session.remove()
        db.engine.dispose()
        self.context.pop()


def test_0019_gives_existing_assets_their_postings_and_goes_back_down(tmp_path):
    """On PostgreSQL, 0019 writes the postings of every asset already there (occurrences per field)
    and the triggers keep them; going back down leaves 0013's rows, still kept. SQLite: nothing."""
    before_0019 = re.search(r"down_revision = '(\d+)'", next(VERSIONS.glob("0019_*.py")).read_text())[1]
    with SearchStep(tmp_path, before_0019, "0019", description="Payback for a hospital", product="Flow",
                    tags='["roi"]') as step:
        if step.on_postgres:
            assert step.added == {"search_posting"}
            with db.engine.begin() as connection:
                payback = connection.execute(text(
                    "SELECT a, b, c, d FROM search_posting WHERE lexeme = 'payback' AND asset_id = 1")).one()
                connection.execute(text("UPDATE asset SET title = 'Clinic savings' WHERE id = 1"))
                renamed = connection.execute(text(
                    "SELECT lexeme, a FROM search_posting WHERE lexeme IN ('clinic', 'hospit') ORDER BY lexeme")).all()
            assert tuple(payback) == (1, 0, 1, 1)  # title, description, body
            assert [tuple(r) for r in renamed] == [("clinic", 1), ("hospit", 0)]
        else:
            assert step.added == set()
        step.down()
        if step.on_postgres:
            with db.engine.begin() as connection:
                connection.execute(text("UPDATE asset SET title = 'Ward savings' WHERE id = 1"))
                found = connection.scalar(text("SELECT count(*) FROM search_document "
                                               "WHERE vector @@ to_tsquery('english', 'ward:A')"))
            assert found == 1


def test_0020_gives_existing_assets_their_pairs_and_goes_back_down(tmp_path):
    """On PostgreSQL, 0020 writes the neighbouring-word pairs of every asset already there and the
    triggers keep them; going back down leaves 0019's postings, still kept. SQLite: nothing."""
    with SearchStep(tmp_path, "0019", "0020") as step:
        if step.on_postgres:
            assert step.added == {"search_pair"}
            with db.engine.begin() as connection:
                pairs = connection.scalars(text("SELECT pair FROM search_pair WHERE asset_id = 1 ORDER BY pair")).all()
                connection.execute(text("UPDATE asset SET title = 'Clinic savings model' WHERE id = 1"))
                edited = connection.scalars(text("SELECT pair FROM search_pair WHERE asset_id = 1 ORDER BY pair")).all()
            # title, kind ("One-pager": three lexemes), body; "in" leaves a gap: no "payback month"
            assert pairs == ["hospit payback", "model one-pag", "one pager", "one-pag one", "pager payback",
                             "payback model"]
            assert edited == ["clinic save", "model one-pag", "one pager", "one-pag one", "pager payback",
                              "save model"]
        else:
            assert step.added == set()
        step.down()
        if step.on_postgres:
            with db.engine.begin() as connection:
                connection.execute(text("UPDATE asset SET title = 'Ward savings' WHERE id = 1"))
                found = connection.scalar(text("SELECT count(*) FROM search_posting WHERE lexeme = 'ward'"))
            assert found == 1


def test_0021_says_who_wrote_each_row_and_remembers_removed_ones(tmp_path):
    """On PostgreSQL, 0021 gives every row the transaction that wrote it (an edit: the editor's), and
    a removed asset's row leaves its id in search_gone; going back down removes both. SQLite: nothing."""
    with SearchStep(tmp_path, "0020", "0021") as step:
        if step.on_postgres:
            assert step.added == {"search_gone"}
            with db.engine.begin() as connection:
                connection.execute(text("UPDATE asset SET title = 'Clinic savings' WHERE id = 1"))
                editor, written = connection.execute(text(
                    "SELECT pg_current_xact_id()::text::bigint, written FROM search_document WHERE asset_id = 1")).one()
            assert written == editor
            with db.engine.begin() as connection:
                connection.execute(text("DELETE FROM asset WHERE id = 1"))
                remover = connection.scalar(text("SELECT pg_current_xact_id()::text::bigint"))
                gone = connection.execute(text("SELECT asset_id, written FROM search_gone")).all()
            assert [tuple(row) for row in gone] == [(1, remover)]
        else:
            assert step.added == set()
        step.down()
        if step.on_postgres:
            columns = {c["name"] for c in inspect(db.engine).get_columns("search_document")}
            assert "written" not in columns


def test_0016_counts_each_asset_in_each_deal_from_the_log(tmp_path):
    """0016 fills deal_asset from the events already logged: first sent, first opened by the buyer, uses."""
    app = create_app(app_config(tmp_path, SEARCH_BACKEND="whoosh"))
    with app.app_context():
        upgrade(revision="0015")
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO asset (id, title, description, kind, product, tags, status, body, url, created_at,"
                " updated_at, review_interval_days, verified_at, audience) VALUES (1, 'Payback model', '',"
                " 'one_pager', 'Flow', '[]', 'published', 'Payback', '', '2026-11-01', '2026-11-01', 90,"
                " '2026-11-01', 'customer')"))
            connection.execute(text("INSERT INTO account (id, name, created_at, updated_at) VALUES"
                                    " (1, 'Acme', '2026-11-01', '2026-11-01')"))
            connection.execute(text(
                "INSERT INTO opportunity (id, name, account_id, amount_minor, currency, status, created_at, updated_at)"
                " VALUES (1, 'Acme renewal', 1, 0, 'USD', 'open', '2026-11-01', '2026-11-01')"))
            for kind, at, deal in [("share", "2026-11-05 10:00:00", 1), ("share", "2026-11-03 09:00:00", 1),
                                   ("customize", "2026-11-04 09:00:00", 1), ("share_open", "2026-11-06 08:00:00", 1),
                                   ("share_page", "2026-11-05 12:00:00", 1), ("view", "2026-11-02 12:00:00", 1),
                                   ("share", "2026-11-01 12:00:00", None)]:
                connection.execute(text("INSERT INTO usage_event (created_at, kind, asset_id, opportunity_id, context)"
                                        " VALUES (:at, :kind, 1, :deal, '{}')"), {"at": at, "kind": kind, "deal": deal})
        upgrade(revision="0016")
        with db.engine.connect() as connection:
            rows = connection.execute(text("SELECT opportunity_id, asset_id, first_sent_at, first_opened_at, uses"
                                           " FROM deal_asset")).all()
        assert [(o, a, str(s)[:16], str(b)[:16], u) for o, a, s, b, u in rows] == [
            (1, 1, "2026-11-03 09:00", "2026-11-05 12:00", 4)]
        downgrade(revision="0015")
        assert "deal_asset" not in inspect(db.engine).get_table_names()
        downgrade(revision="base")
        db.session.remove()
        db.engine.dispose()
