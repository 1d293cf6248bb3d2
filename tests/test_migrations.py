"""Migrations build exactly the models' schema, and go back down cleanly."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from app import create_app
from app.extensions import db

from .conftest import app_config


def test_upgrade_from_empty_matches_the_models_and_downgrade_removes_all(tmp_path):
    app = create_app(app_config(tmp_path))
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
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
