"""Where the bytes of uploaded and generated files live: the one module that knows.

Files are kept under generated names in the files directory (FILES_DIR: BRIDGE_FILES_DIR, a
directory on a mount every node shares when Bridge runs on several machines). Everything else asks
this module for a stored file's path, for scratch space, or (backups, restores) for the whole
store, so keeping the bytes elsewhere (object storage) means changing this module only.
"""
from __future__ import annotations

import os
import secrets
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask import Flask, current_app


def init_app(app: Flask) -> None:
    """Create the files directory on first start."""
    app.config["FILES_DIR"].mkdir(parents=True, exist_ok=True)


def _root() -> Path:
    return current_app.config["FILES_DIR"]


def incoming_dir() -> Path:
    """Scratch space on the same filesystem, so finished files move in atomically."""
    path = _root() / ".incoming"
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_name(extension: str) -> str:
    return f"{uuid.uuid4().hex}.{extension}"


def scratch_path(extension: str) -> Path:
    return incoming_dir() / new_name(extension)


def path_of(name: str) -> Path:
    """The path of a stored file; refuses anything that is not a plain generated name."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(f"not a stored file name: {name!r}")
    return _root() / name


def keep(scratch: Path) -> str:
    """Move a finished scratch file into the store under its generated name."""
    os.replace(scratch, _root() / scratch.name)
    return scratch.name


def discard(*names_or_paths: str | Path | None) -> None:
    """Remove stored or scratch files, ignoring ones already gone."""
    for item in names_or_paths:
        if not item:
            continue
        path = item if isinstance(item, Path) else path_of(item)
        path.unlink(missing_ok=True)


def store_bytes(data: bytes, extension: str) -> str:
    """Write generated content (a rendered PDF) into the store; returns its generated name."""
    scratch = scratch_path(extension.lstrip("."))
    scratch.write_bytes(data)
    return keep(scratch)


@dataclass(frozen=True)
class Entry:
    """One file of the store, named by its path relative to the store (`a1b2….pdf`, `.incoming/…`)."""

    name: str
    size: int
    _path: Path

    def open(self) -> BinaryIO:
        return self._path.open("rb")


def every_file() -> Iterator[Entry]:
    """Every file the store holds (scratch space included), in name order: what a backup archives."""
    root = _root()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        yield Entry(path.relative_to(root).as_posix(), path.stat().st_size, path)


def new_store() -> Path:
    """An empty directory on the store's filesystem where a whole new store is put together (a
    restore), to take the store's place with `replace_store`, or be dropped with `drop_store`."""
    root = _root()
    staged = root.parent / f".{root.name}-restore-{secrets.token_hex(6)}"
    staged.mkdir(parents=True)
    return staged


def replace_store(staged: Path) -> None:
    """Put the directory `new_store` gave in the store's place (two renames); the old store goes."""
    root = _root()
    previous = staged.with_name(staged.name + "-previous")
    if root.exists():
        root.rename(previous)
    staged.rename(root)
    shutil.rmtree(previous, ignore_errors=True)


def drop_store(staged: Path) -> None:
    """Remove a directory `new_store` gave that will not be used."""
    shutil.rmtree(staged, ignore_errors=True)
