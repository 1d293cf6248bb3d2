"""Migrations build exactly the models' schema, and go back down cleanly."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

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
