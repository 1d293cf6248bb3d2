"""Settings read from the environment, with embedded defaults for a single-machine install."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _secret_key(env, data_dir: Path) -> str:
    """Return BRIDGE_SECRET_KEY, or a key generated once and kept in the data directory."""
    if key := env.get("BRIDGE_SECRET_KEY"):
        return key
    key_file = data_dir / "secret_key"
    if not key_file.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return key_file.read_text().strip()


def from_environment(env: dict[str, str] | None = None) -> dict:
    """Build the Flask config mapping from BRIDGE_* environment variables."""
    env = os.environ if env is None else env
    data_dir = Path(env.get("BRIDGE_DATA_DIR", ROOT / "instance")).resolve()
    # Uploaded and generated files: on several machines a directory on a mount they all share, apart
    # from each node's data directory. BRIDGE_COLLATERAL_DIR is its older name.
    files_dir = env.get("BRIDGE_FILES_DIR") or env.get("BRIDGE_COLLATERAL_DIR") or data_dir / "files"
    database_url = env.get("BRIDGE_DATABASE_URL") or f"sqlite:///{data_dir / 'bridge.db'}"
    max_upload_mb = int(env.get("BRIDGE_MAX_UPLOAD_MB", "50"))
    return {
        "DATA_DIR": data_dir,
        "FILES_DIR": Path(files_dir).resolve(),
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        "SECRET_KEY": _secret_key(env, data_dir),
        "MAX_UPLOAD_MB": max_upload_mb,
        # Room for the multipart envelope around a file of the maximum size.
        "MAX_CONTENT_LENGTH": max_upload_mb * 1024 * 1024 + 1024 * 1024,
        # Proxies in front of Bridge whose X-Forwarded-For/-Proto/-Host are believed (0: none, so no
        # client can choose the address its rate limits are counted under).
        "TRUSTED_PROXIES": int(env.get("BRIDGE_TRUSTED_PROXIES", "0")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env.get("BRIDGE_SECURE_COOKIES", "0") == "1",
        "REMEMBER_COOKIE_SECURE": env.get("BRIDGE_SECURE_COOKIES", "0") == "1",
        "EXTRACT_TIMEOUT_S": float(env.get("BRIDGE_EXTRACT_TIMEOUT_S", "30")),
        "EXTRACT_MEMORY_MB": int(env.get("BRIDGE_EXTRACT_MEMORY_MB", "1024")),
        # Usage events are written in batches: at most this long after they happen (the crash-loss
        # bound), or as soon as this many are waiting.
        "USAGE_FLUSH_MS": int(env.get("BRIDGE_USAGE_FLUSH_MS", "500")),
        "USAGE_BATCH": int(env.get("BRIDGE_USAGE_BATCH", "1000")),
        "COMPANY_NAME": env.get("BRIDGE_COMPANY_NAME", "Bridge"),
        # Failed logins allowed per account per window (five times as many per client address).
        "LOGIN_MAX_FAILURES": int(env.get("BRIDGE_LOGIN_MAX_FAILURES", "10")),
        "LOGIN_WINDOW_S": int(env.get("BRIDGE_LOGIN_WINDOW_S", "900")),
        # How passwords are hashed (werkzeug's method string; its default, scrypt, costs ~0.1 s of CPU
        # a login). A stored hash keeps its own method, so changing this affects new passwords only.
        "PASSWORD_HASH_METHOD": env.get("BRIDGE_PASSWORD_HASH_METHOD", "scrypt"),
        "RENDER_TIMEOUT_S": float(env.get("BRIDGE_RENDER_TIMEOUT_S", "30")),
        "RENDER_MEMORY_MB": int(env.get("BRIDGE_RENDER_MEMORY_MB", "768")),
        # Page images (share viewer, previews, thumbnails): per page, a time limit, memory beyond the
        # renderer's own, and a pixel budget; a page over any of them becomes a placeholder image.
        "PAGE_TIMEOUT_S": float(env.get("BRIDGE_PAGE_TIMEOUT_S", "10")),
        "PAGE_MEMORY_MB": int(env.get("BRIDGE_PAGE_MEMORY_MB", "1024")),
        "PAGE_MAX_PIXELS": int(env.get("BRIDGE_PAGE_MAX_PIXELS", "25000000")),
        # Decks and documents are converted to PDF at upload by LibreOffice (app/files/convert.py).
        # The memory limit is an address-space limit: below ~1.3 GB LibreOffice silently drops
        # pictures from photo-heavy decks instead of failing.
        "OFFICE_PREVIEWS": env.get("BRIDGE_OFFICE_PREVIEWS", "1") == "1",
        "SOFFICE_PATH": env.get("BRIDGE_SOFFICE", "/usr/lib/libreoffice/program/soffice.bin"),
        "CONVERT_TIMEOUT_S": float(env.get("BRIDGE_CONVERT_TIMEOUT_S", "90")),
        "CONVERT_MEMORY_MB": int(env.get("BRIDGE_CONVERT_MEMORY_MB", "3072")),
        # Term postings each process keeps in memory for search (least recently used go first), and
        # query results each serving thread keeps. 0 (the default) sizes the postings to half the index
        # on disk, between 64 and 512 MB: a worker of a 10,000-asset library stays under 200 MB
        # (bench/README.md, pages.py --memory), one of 100,000 keeps its common words' positions.
        "SEARCH_CACHE_MB": int(env.get("BRIDGE_SEARCH_CACHE_MB", "0")),
        # A new gunicorn worker answers a few popular searches before its first request (app/search/warmup.py).
        "SEARCH_WARM": env.get("BRIDGE_SEARCH_WARM", "1") == "1",
        "SEARCH_QUERY_CACHE_MB": int(env.get("BRIDGE_SEARCH_QUERY_CACHE_MB", "16")),
        # Which search backend answers: "whoosh" (an index in the data directory) or "postgres" (in
        # the database, migration 0013); empty: postgres when the database is PostgreSQL, else whoosh.
        "SEARCH_BACKEND": env.get("BRIDGE_SEARCH_BACKEND", "").strip().lower(),
        # Postings each indexing process of a rebuild holds in memory: the rebuild commits a segment
        # each time its processes hold this much (app/search/whoosh/backend.py), so a process peaks
        # near this plus ~300 MB whatever the library's size (bench/README.md, `warm.py rebuild`).
        "SEARCH_BUILD_MB": int(env.get("BRIDGE_SEARCH_BUILD_MB", "1024")),
        # Outgoing mail (app/notifications/mail.py): smtp://, smtp+starttls:// or smtps:// with
        # user:password@ when the server wants a login; empty: no mail, notifications stay in-app.
        "SMTP_URL": env.get("BRIDGE_SMTP_URL", "").strip(),
        "MAIL_FROM": env.get("BRIDGE_MAIL_FROM", "bridge@localhost").strip(),
        "SMTP_TIMEOUT_S": float(env.get("BRIDGE_SMTP_TIMEOUT_S", "10")),
        # Jobs (app/jobs/, `flask jobs work`): a running job's lease, renewed by its worker every third
        # of it (a worker that died is noticed once it runs out); how often an idle worker looks for work
        # on SQLite (PostgreSQL wakes it with NOTIFY and looks this often anyway); EAGER runs each job
        # inside the request that queues it (tests, or a one-process install without a worker).
        "JOBS_LEASE_S": float(env.get("BRIDGE_JOBS_LEASE_S", "60")),
        "JOBS_POLL_S": float(env.get("BRIDGE_JOBS_POLL_S", "1")),
        "JOBS_SCHEDULE_S": float(env.get("BRIDGE_JOBS_SCHEDULE_S", "300")),
        "JOBS_EAGER": env.get("BRIDGE_JOBS_EAGER", "0") == "1",
        # The address links in mails point to (mail has no request to take it from).
        # A deal room's rep is alerted on a buyer's first visit and on a visit after this many hours
        # without one (app/rooms/visits.py).
        "ROOM_QUIET_HOURS": float(env.get("BRIDGE_ROOM_QUIET_HOURS", "24")),
        "PUBLIC_URL": env.get("BRIDGE_PUBLIC_URL", "http://127.0.0.1:5000").rstrip("/"),
    }


def normalise_database_url(url: str) -> str:
    """Make plain postgres:// URLs use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
