"""CSV files people upload to map onto Bridge's fields (bulk customize, the CRM import): read with
clear errors, then kept for a day under a generated name until the mapping is confirmed."""
from __future__ import annotations

import csv
import io
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from app.files import storage

TOKEN = re.compile(r"[0-9a-f]{32}")
KEEP_S = 24 * 3600


class CsvError(ValueError):
    """A user-facing reason why a CSV cannot be used."""


@dataclass
class Upload:
    """A CSV waiting for its mapping to be confirmed."""

    token: str
    columns: list[str]
    rows: list[dict[str, str]]


def normalised(name: str) -> str:
    """A column name compared without case, spaces, dashes or underscores."""
    return re.sub(r"[\s_\-]+", "", name).casefold()


@dataclass(frozen=True)
class CsvKind:
    """One kind of upload: its file prefix, its bounds, and what its rows are called in messages."""

    prefix: str
    max_rows: int
    max_bytes: int
    rows_are: str  # "accounts", "opportunities"
    error: type[ValueError] = CsvError  # what the area's views already catch (DocumentError, DealError)

    def read(self, data: bytes) -> tuple[list[str], list[dict[str, str]]]:
        """The columns and non-empty rows of a CSV; `error` saying what to fix otherwise."""
        if len(data) > self.max_bytes:
            raise self.error(f"The CSV is larger than {self.max_bytes // 1024 // 1024} MB; split it.")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise self.error("The CSV is not UTF-8 text; export it again as “CSV UTF-8”.") from None
        reader = csv.DictReader(io.StringIO(text))
        columns = [c.strip() for c in reader.fieldnames or [] if c and c.strip()]
        if not columns:
            raise self.error("The CSV needs a header row naming its columns.")
        if len({normalised(c) for c in columns}) < len(columns):
            raise self.error("Two columns of the CSV have the same name.")
        rows = [{(k or "").strip(): (v or "").strip() for k, v in row.items() if isinstance(k, str) and k}
                for row in reader]
        rows = [row for row in rows if any(row.values())]
        if len(rows) > self.max_rows:
            raise self.error(f"At most {self.max_rows} {self.rows_are} at a time ({len(rows)} given).")
        if not rows:
            raise self.error(f"The CSV has no {self.rows_are}.")
        return columns, rows

    def stash(self, user, data: bytes) -> Upload:
        """Read the CSV and keep it (the user's own, for a day) until the mapping is confirmed."""
        columns, rows = self.read(data)
        self._forget_old()
        token = secrets.token_hex(16)
        self._path(user, token).write_bytes(data)
        return Upload(token, columns, rows)

    def stashed(self, user, token: str) -> Upload | None:
        """The user's own waiting CSV, or None (unknown, expired or someone else's)."""
        if not TOKEN.fullmatch(token or ""):
            return None
        path = self._path(user, token)
        return Upload(token, *self.read(path.read_bytes())) if path.is_file() else None

    def forget(self, user, token: str) -> None:
        """The user's waiting CSV is done with."""
        if TOKEN.fullmatch(token or ""):
            self._path(user, token).unlink(missing_ok=True)

    def _path(self, user, token: str) -> Path:
        return storage.incoming_dir() / f"{self.prefix}-{user.id}-{token}.csv"

    def _forget_old(self) -> None:
        cutoff = time.time() - KEEP_S
        for path in storage.incoming_dir().glob(f"{self.prefix}-*.csv"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
            except FileNotFoundError:
                pass
