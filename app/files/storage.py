"""Uploaded files on disk, always under generated names inside the collateral directory."""
from __future__ import annotations

import os
import uuid
from pathlib import Path

from flask import current_app


def root() -> Path:
    return current_app.config["COLLATERAL_DIR"]


def incoming_dir() -> Path:
    """Scratch space on the same filesystem, so finished files move in atomically."""
    path = root() / ".incoming"
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
    return root() / name


def keep(scratch: Path) -> str:
    """Move a finished scratch file into the store under its generated name."""
    os.replace(scratch, root() / scratch.name)
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
