"""`flask restore` is all or nothing: each crafted archive is refused with one line and exit code 1,
and the database, the files, the secret key and the search index stay as they were, whether the
restore went to an empty database or replaced one holding data."""
from __future__ import annotations

import copy
import hashlib
import io
import json
import secrets
import tarfile
from pathlib import Path

import pytest

from app.extensions import db
from app.ops import backup
from tests.ops.test_backup import every_row, populated, second_site  # noqa: F401 (fixtures)


def crafted(good: Path, target: Path, *, manifest=None, add=(), replace=None) -> Path:
    """A copy of the archive `good` with its manifest edited by `manifest`, members `add`ed ((TarInfo,
    bytes) pairs) and the bytes of some members replaced by `replace`(name, bytes)."""
    with tarfile.open(good) as source, tarfile.open(target, "w:gz") as out:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name == "manifest.json" and manifest is not None:
                content = json.loads(data)
                manifest(content)
                data = json.dumps(content).encode()
            elif replace is not None:
                data = replace(member.name, data)
            info = copy.copy(member)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
        for info, data in add:
            out.addfile(info, io.BytesIO(data) if data is not None else None)
    return target


def member(name: str, data: bytes = b"x", kind=tarfile.REGTYPE, link: str = "") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size = kind, link, len(data) if kind == tarfile.REGTYPE else 0
    return info, data if kind == tarfile.REGTYPE else None


ESCAPE = f"bridge-restore-{secrets.token_hex(4)}"


def duplicate_first_event(name: str, data: bytes) -> bytes:
    return data + data.splitlines(keepends=True)[0] if name == "database/usage_event.jsonl" else data


def bump(key: str, table: str | None = None):
    def edit(manifest):
        if table:
            manifest[key][table] += 1
        else:
            manifest[key] += 1
    return edit


CASES = {
    "a member named files/../../../../tmp/…": dict(add=[member(f"files/../../../../tmp/{ESCAPE}")]),
    "an absolute member name": dict(add=[member(f"files//tmp/{ESCAPE}")]),
    "a symbolic link among the files": dict(add=[member("files/passwd", kind=tarfile.SYMTYPE, link="/etc/passwd")]),
    "a device among the files": dict(add=[member("files/null", kind=tarfile.CHRTYPE)]),
    "a member no backup has": dict(add=[member("notes/readme.txt")]),
    "a file listed twice": dict(add=[member("settings/settings.json", b"{}")]),
    "a manifest without rows": dict(manifest=lambda m: m.pop("rows")),
    "a manifest that is a list": dict(replace=lambda n, d: b"[1]" if n == "manifest.json" else d),
    "a manifest with a negative count": dict(manifest=lambda m: m["rows"].update(usage_event=-1)),
    "another schema revision": dict(manifest=lambda m: m.update(revision="0001")),
    "a table this Bridge does not know": dict(manifest=lambda m: m["rows"].update(secrets=0)),
    "fewer files than the manifest says": dict(manifest=bump("files")),
    "fewer rows than the manifest says": dict(manifest=bump("rows", "usage_event")),
    "a row that breaks a key": dict(replace=duplicate_first_event, manifest=bump("rows", "usage_event")),
    "a row that is not an object": dict(replace=lambda n, d: d + b"[1]\n" if n.endswith("/user_account.jsonl") else d,
                                        manifest=bump("rows", "user_account")),
    "truncated": "truncated",
}


def state(site) -> dict:
    """What a failed restore must not change: rows, stored files, the secret key, the search index,
    and no staging directory left in the data directory."""
    data_dir: Path = site.config["DATA_DIR"]

    def files_under(root: Path) -> dict[str, str]:
        return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(root.rglob("*")) if p.is_file()} if root.exists() else {}

    db.session.expire_all()
    return {"rows": every_row(), "files": files_under(site.config["FILES_DIR"]),
            "key": (data_dir / "secret_key").read_bytes(), "index": files_under(data_dir / "search-index"),
            "data dir": sorted(p.name for p in data_dir.iterdir() if not p.name.startswith(("search-", "bridge.db")))}


def try_each_crafted_archive(site, good: Path, workshop: Path, args: list[str]) -> None:
    before = state(site)
    for number, (case, craft) in enumerate(CASES.items()):
        target = workshop / f"crafted-{number}.tar.gz"
        if craft == "truncated":
            target.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
        else:
            crafted(good, target, **craft)
        answer = site.test_cli_runner().invoke(args=["restore", *args, str(target)])
        assert answer.exit_code == 1, (case, answer.output, answer.exception)
        assert answer.output.startswith("Error: ") and answer.output.count("\n") == 1, (case, answer.output)
        assert "Traceback" not in answer.output, case
        assert state(site) == before, case
        assert not (Path("/tmp") / ESCAPE).exists(), case
    restored = site.test_cli_runner().invoke(args=["restore", *args, str(good)])  # the good archive itself loads
    assert restored.exit_code == 0, restored.output
    assert not [p for p in site.config["DATA_DIR"].iterdir() if "restore-" in p.name]  # staged store, key


@pytest.fixture
def workshop(tmp_path_factory) -> Path:
    """Where the archives are made: outside every site's data directory."""
    return tmp_path_factory.mktemp("archives")


@pytest.fixture
def good_backup(app, populated, workshop, monkeypatch):  # noqa: F811 (the fixture imported above)
    """A real backup of a site with rows, files and a generated secret key; afterwards that site's key
    changes, so a restore that brought the old one back would show."""
    monkeypatch.delenv("BRIDGE_SECRET_KEY")
    key_file = app.config["DATA_DIR"] / "secret_key"
    key_file.write_text("k" * 64)
    archive = workshop / "good.tar.gz"
    backup.create(archive)
    key_file.write_text("j" * 64)
    return archive


def test_crafted_archives_change_nothing_in_an_empty_database(good_backup, second_site, workshop):  # noqa: F811
    db.session.remove()
    (second_site.config["DATA_DIR"] / "secret_key").write_text("e" * 64)
    with second_site.app_context():
        try_each_crafted_archive(second_site, good_backup, workshop, [])


def test_crafted_archives_change_nothing_when_replacing_a_database_with_data(app, good_backup, workshop):
    try_each_crafted_archive(app, good_backup, workshop, ["--replace"])
