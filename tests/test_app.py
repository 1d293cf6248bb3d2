"""Start-up, settings and the health check."""
from pathlib import Path

from app import config, create_app

from .conftest import app_config


def test_healthz_reports_ok_when_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_healthz_reports_unavailable_when_database_is_gone(tmp_path):
    broken = create_app(app_config(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing/dir/x.db"))
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "unavailable"


def test_settings_default_to_one_data_directory(tmp_path):
    settings = config.from_environment({"BRIDGE_DATA_DIR": str(tmp_path)})
    assert settings["DATA_DIR"] == tmp_path
    assert settings["FILES_DIR"] == tmp_path / "files"
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'bridge.db'}"
    assert settings["MAX_UPLOAD_MB"] == 50
    assert settings["PASSWORD_HASH_METHOD"] == "scrypt"  # what a served Bridge hashes new passwords with


def test_settings_read_from_environment(tmp_path):
    settings = config.from_environment({
        "BRIDGE_DATA_DIR": str(tmp_path), "BRIDGE_FILES_DIR": str(tmp_path / "share"),
        "BRIDGE_DATABASE_URL": "postgresql://bridge:pw@db/bridge", "BRIDGE_SECRET_KEY": "k",
        "BRIDGE_MAX_UPLOAD_MB": "5",
    })
    assert settings["FILES_DIR"] == tmp_path / "share"
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://bridge:pw@db/bridge"
    assert settings["SECRET_KEY"] == "k"
    assert settings["MAX_CONTENT_LENGTH"] > 5 * 1024 * 1024


def test_files_directory_keeps_its_older_name(tmp_path):
    older = {"BRIDGE_DATA_DIR": str(tmp_path), "BRIDGE_COLLATERAL_DIR": str(tmp_path / "old")}
    assert config.from_environment(older)["FILES_DIR"] == tmp_path / "old"
    both = {**older, "BRIDGE_FILES_DIR": str(tmp_path / "shared")}
    assert config.from_environment(both)["FILES_DIR"] == tmp_path / "shared"


def test_secret_key_is_generated_once_and_kept(tmp_path):
    env = {"BRIDGE_DATA_DIR": str(tmp_path)}
    first = config.from_environment(env)["SECRET_KEY"]
    second = config.from_environment(env)["SECRET_KEY"]
    assert first == second and len(first) >= 32
    assert (Path(tmp_path) / "secret_key").stat().st_mode & 0o077 == 0


def test_unknown_page_shows_styled_404(client, login_as):
    login_as("rep")
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "There is nothing here" in response.get_data(as_text=True)
