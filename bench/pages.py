"""Page speed: Bridge's main pages under gunicorn, against a bare Flask app in the same run.

Usage:
  .venv/bin/python bench/pages.py [--library demo|10k] [--duration 10] [--pages PATTERNS]
                                  [--keep DIR] [--json OUT]
  .venv/bin/python bench/pages.py --library 10k --memory [--searches 2000] [--keep DIR]

Builds a library (`flask db upgrade`, `flask seed-demo`; for 10k, bulk rows from bench/seed.py up
to 10,000 assets and 1,000,000 events; then `flask search reindex`), serves it with gunicorn as
`make serve` does (2 sync workers), logs in as each role and drives each page with wrk (or a
Python client when wrk is absent): 8 connections, `--duration` seconds per page after a short
warm-up. A bare Flask app rendering a small template (bench/bare_app.py), served with the same
gunicorn settings, is measured before and after the pages. Per page it prints req/s, p50/p99
latency, the ratio of req/s to the bare app, and, measured in-process with the Flask test
client, SQL statements and server time per request (medians of `--runs` requests).

--memory instead measures a worker's RSS (VmRSS) before and after `--searches` distinct
searches, and their latency over HTTP.
"""
from __future__ import annotations

import argparse
import fnmatch
import http.client
import importlib
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import quote_plus, urlencode
from urllib.request import HTTPCookieProcessor, build_opener

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent  # flask and gunicorn of the same virtualenv
PASSWORD = "bridge-demo"  # the demo accounts' password (README)
EMAILS = {"rep": "rep@example.com", "marketer": "marketer@example.com", "manager": "manager@example.com",
          "admin": "admin@example.com"}
# Flask-Login's session protection hashes the user agent: wrk must send the one the login used.
USER_AGENT = "bridge-bench"
CONNECTIONS = 8
WORKERS = 2
LIBRARIES = {"demo": (0, 0), "10k": (10_000, 1_000_000)}  # assets and events in all (0: the demo's own)
INSIGHTS = [("overview", ""), ("usage", "usage"), ("ignored", "ignored"), ("coverage", "coverage"),
            ("adoption", "adoption"), ("ratings", "ratings"), ("gaps", "gaps"), ("influence", "influence"),
            ("shares", "shares")]
LONG_QUERY = "healthcare operations staffing patient flow"  # 5 words, 4 results in the demo


@dataclass
class Page:
    name: str
    role: str | None  # None: not logged in
    path: str  # may hold {asset} and {collection}


PAGES = [
    Page("healthz", None, "/healthz"),
    Page("home", "rep", "/"),
    Page("search", "rep", "/search?q=roi"),
    Page("search-long", "rep", "/search?q=" + quote_plus(LONG_QUERY)),
    Page("asset", "rep", "/assets/{asset}"),
    Page("documents", "rep", "/documents"),
    Page("collections", "rep", "/collections"),
    Page("collection", "rep", "/collections/{collection}"),
    Page("shares", "rep", "/shares"),
    *[Page(f"insights.{name}.{role}", role, f"/insights/{slug}") for role in ("marketer", "manager")
      for name, slug in INSIGHTS],
    Page("manage", "marketer", "/manage/"),
    Page("admin-users", "admin", "/admin/users"),
]


@dataclass
class Figures:
    """One page's figures: over HTTP (rps, p50, p99) and in-process (sql, server_ms)."""

    name: str
    who: str
    path: str
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    requests: int = 0
    errors: int = 0
    ratio: float | None = None
    sql: float | None = None
    server_ms: float | None = None


# ---------------------------------------------------------------------------------------------
# The library


def bridge_env(data_dir: Path, **extra) -> dict:
    """The environment `make serve` would give Bridge, on `data_dir`; nothing inherited from BRIDGE_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    env.update(BRIDGE_DATA_DIR=str(data_dir), BRIDGE_DATABASE_URL=f"sqlite:///{data_dir / 'bridge.db'}",
               BRIDGE_SECRET_KEY="bench", FLASK_APP="app", **extra)
    return env


def flask_cli(data_dir: Path, *args: str) -> None:
    started = time.perf_counter()
    done = subprocess.run([str(BIN / "flask"), *args], cwd=ROOT, env=bridge_env(data_dir),
                          capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    print(f"  flask {' '.join(args)}: {time.perf_counter() - started:.0f} s", flush=True)


def build_library(kind: str, data_dir: Path) -> None:
    """The demo (through the CLI, as a customer would get it), grown to 10k by bulk inserts."""
    print(f"Building the {kind} library in {data_dir}…", flush=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    flask_cli(data_dir, "db", "upgrade")
    flask_cli(data_dir, "seed-demo")
    about = in_new_app(data_dir, lambda: extend_library(*LIBRARIES[kind]))
    flask_cli(data_dir, "search", "reindex")
    (data_dir / "library.json").write_text(json.dumps({"library": kind, **about}))


def in_new_app(data_dir: Path, fn):
    """Run `fn` in an app context of a Bridge app on `data_dir`."""
    from app import create_app
    from app.extensions import db

    os.environ.update(bridge_env(data_dir))
    app = create_app()
    with app.app_context():
        result = fn()
        db.engine.dispose()  # nothing left open on a library about to be copied
    app.extensions["usage_log"].close()
    return result


def extend_library(total_assets: int, events: int) -> dict:
    """Grow the demo to `total_assets` live assets with text, `events` more events over a year,
    40 more reps, 5,000 ratings and a busy rep@example.com (documents, share links, a large
    collection). Returns the vocabulary of the assets' text (for --memory's searches)."""
    import seed
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Asset, Team, User

    existing = db.session.scalar(select(func.count()).select_from(Asset))
    if total_assets <= existing:
        return {}
    rng, text_rng = random.Random(21), random.Random(2121)
    term_ids, stage_ids = seed.taxonomy_ids()
    teams = dict(db.session.execute(select(Team.name, Team.id)).all())
    field_teams = [teams["Team East"], teams["Team West"]]
    seed.add_users([(f"rep{n}@bench.example", f"Bench Rep {n:02d}", "rep", field_teams[n % 2])
                    for n in range(40)], PASSWORD)
    reps = [tuple(r) for r in db.session.execute(
        select(User.id, User.team_id).where(User.role == "rep").order_by(User.id))]
    marketer = db.session.scalar(select(User).where(User.email == EMAILS["marketer"]))
    first = db.session.scalar(select(func.max(Asset.id))) + 1
    new_ids = range(first, first + total_assets - existing)
    vocab = seed.vocabulary(text_rng)
    started = time.perf_counter()
    seed.add_assets(new_ids, marketer.id, term_ids, stage_ids, rng, vocab, text_rng)
    print(f"  {len(new_ids):,} assets inserted in {time.perf_counter() - started:.0f} s", flush=True)
    live = [*db.session.scalars(select(Asset.id).where(Asset.status == "published").order_by(Asset.id))]
    took = seed.add_events(events, reps, live, rng)
    print(f"  {events:,} events inserted in {took:.0f} s", flush=True)
    seed.add_ratings(reps, list(new_ids), rng)
    rep = db.session.scalar(select(User).where(User.email == EMAILS["rep"]))
    seed.add_rep_history(rep.id, rep.team_id, live, rng)
    seed.analyze()
    return {"vocab": vocab}


def prepared_library(args, scratch: Path) -> Path:
    """A data directory to serve: built in `scratch`, or copied there from the kept build (runs
    add usage events and sessions; the kept library stays as built)."""
    if not args.keep:
        build_library(args.library, scratch / "data")
        return scratch / "data"
    kept = args.keep.resolve() / args.library
    if not (kept / "library.json").exists():
        shutil.rmtree(kept, ignore_errors=True)
        build_library(args.library, kept)
    started = time.perf_counter()
    shutil.copytree(kept, scratch / "data", symlinks=True)  # the index's `current` stays a link
    print(f"Library {kept} copied for this run in {time.perf_counter() - started:.0f} s", flush=True)
    flask_cli(scratch / "data", "db", "upgrade")  # a library kept from an older schema
    return scratch / "data"


# ---------------------------------------------------------------------------------------------
# In-process: SQL statements and server time per request (Flask test client)


def served_app(data_dir: Path):
    """Bridge as gunicorn loads it (`app.wsgi`: create_app() and the serving GC settings), here."""
    os.environ.update(bridge_env(data_dir))
    return importlib.import_module("app.wsgi").app


def test_client_login(client, email: str) -> None:
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', html)[1]
    answer = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    if answer.status_code != 302:
        sys.exit(f"test client: could not log in as {email} ({answer.status_code})")
    client.get("/")  # shows and clears the welcome message


def measure_in_process(data_dir: Path, pages: list[Page], targets: dict, runs: int) -> dict[str, tuple]:
    """(median SQL statements, median ms) per page name, with the app exactly as gunicorn loads it."""
    from sqlalchemy import event

    from app.extensions import db

    served = served_app(data_dir)
    counted = {"n": 0}
    me = threading.get_ident()

    def count(*_):
        if threading.get_ident() == me:  # not the usage-log writer's batches
            counted["n"] += 1

    with served.app_context():
        event.listen(db.engine, "before_cursor_execute", count)
    clients = {}
    results = {}
    for page in pages:
        if page.role not in clients:
            clients[page.role] = served.test_client()
            if page.role:
                test_client_login(clients[page.role], EMAILS[page.role])
        client, path = clients[page.role], page.path.format(**targets)
        first = client.get(path)  # warm: the figures are for a server that has been up
        if first.status_code != 200:
            sys.exit(f"test client: {path} as {page.role} answered {first.status_code}")
        statements, times = [], []
        for _ in range(runs):
            counted["n"] = 0
            started = time.perf_counter()
            client.get(path)
            times.append((time.perf_counter() - started) * 1000)
            statements.append(counted["n"])
        results[page.name] = (statistics.median(statements), statistics.median(times))
        print(f"  {page.name:<28}{statistics.median(statements):>5.0f} SQL {statistics.median(times):8.1f} ms",
              flush=True)
    with served.app_context():
        event.remove(db.engine, "before_cursor_execute", count)
    return results


def pick_targets(data_dir: Path) -> dict:
    """The asset page to drive (the library's most viewed asset that shows "More like this") and
    the rep's largest collection."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Collection, CollectionItem, UsageEvent, User

    served = served_app(data_dir)
    with served.app_context():
        rep = db.session.scalar(select(User).where(User.email == EMAILS["rep"]))
        collection = db.session.scalar(
            select(Collection.id).join(CollectionItem).where(Collection.user_id == rep.id)
            .group_by(Collection.id).order_by(func.count().desc(), Collection.id).limit(1))
        popular = [*db.session.scalars(
            select(UsageEvent.asset_id).where(UsageEvent.kind == "view", UsageEvent.asset_id.is_not(None))
            .group_by(UsageEvent.asset_id).order_by(func.count().desc(), UsageEvent.asset_id).limit(10))]
    client = served.test_client()
    test_client_login(client, EMAILS["rep"])
    shows_related = [a for a in popular if "More like this" in client.get(f"/assets/{a}").get_data(as_text=True)]
    return {"asset": (shows_related or popular)[0], "collection": collection}


# ---------------------------------------------------------------------------------------------
# Over HTTP: gunicorn, logins, load


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A gunicorn master with `WORKERS` sync workers, as `make serve` starts it."""

    def __init__(self, app_spec: str, data_dir: Path, log: Path, ready_path: str, extra_args=()):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        # No job worker (BRIDGE_JOB_WORKERS=0): the master's children are then its WORKERS web workers,
        # and nothing else on the machine competes with the pages measured.
        env = bridge_env(data_dir, BRIDGE_BIND=f"127.0.0.1:{self.port}", BRIDGE_WORKERS=str(WORKERS),
                         BRIDGE_JOB_WORKERS="0")
        self.log = log.open("w")
        self.proc = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", "python:app.gunicorn_conf", *extra_args, app_spec],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"gunicorn {app_spec} exited; see {log}")
            try:
                if status_of(self.base + ready_path)[0] == 200 and len(self.workers()) == WORKERS:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        sys.exit(f"gunicorn {app_spec} did not answer {ready_path} in 120 s; see {log}")

    def workers(self) -> list[int]:
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return [int(p) for p in children.read_text().split()] if children.exists() else []

    def wait_idle(self, timeout: float = 300) -> None:
        """Return once the workers have used no CPU for a moment: a sync worker still serves the
        requests a finished load left queued, which would count against the next page."""
        deadline = time.monotonic() + timeout
        last = self.cpu_ticks()
        while time.monotonic() < deadline:
            time.sleep(0.25)
            now = self.cpu_ticks()
            if now - last <= 1:  # clock ticks (1/100 s)
                return
            last = now

    def cpu_ticks(self) -> int:
        total = 0
        for pid in self.workers():
            try:  # utime and stime: fields 14 and 15 of /proc/<pid>/stat, after "(comm)"
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            total += int(fields[11]) + int(fields[12])
        return total

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def status_of(url: str, cookie: str | None = None) -> tuple[int, str, bool]:
    """(status, body, whether the answer sets a cookie) of one GET without following redirects."""
    host, _, rest = url.removeprefix("http://").partition("/")
    conn = http.client.HTTPConnection(host, timeout=60)
    headers = {"User-Agent": USER_AGENT, **({"Cookie": cookie} if cookie else {})}
    try:
        conn.request("GET", "/" + rest, headers=headers)
        answer = conn.getresponse()
        return answer.status, answer.read().decode(errors="replace"), answer.getheader("Set-Cookie") is not None
    finally:
        conn.close()


def http_login(base: str, email: str) -> str:
    """Log in over HTTP; returns the Cookie header of the session (after its first page)."""
    jar = CookieJar()
    opener = build_opener(HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", USER_AGENT)]
    html = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf-token" content="([^"]+)"', html)[1]
    # The redirect is followed: the home page shows the welcome message, so the cookie wrk
    # sends no longer carries it (else every page would render it and re-sign the session).
    opener.open(base + "/login", data=urlencode({"email": email, "password": PASSWORD,
                                                 "csrf_token": token}).encode()).read()
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    if status_of(base + "/profile", cookie)[0] != 200:
        sys.exit(f"could not log in as {email} over HTTP")
    return cookie


WRK_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests": %d, "duration_us": %d, "errors": %d, "p50_us": %d, "p99_us": %d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def wrk_load(url: str, cookie: str | None, seconds: int, script: Path) -> dict:
    """wrk, 2 threads (one per core), CONNECTIONS connections; errors include non-2xx/3xx answers."""
    headers = ["-H", f"User-Agent: {USER_AGENT}"] + (["-H", f"Cookie: {cookie}"] if cookie else [])
    done = subprocess.run(["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "30s",
                           "-s", str(script), *headers, url], capture_output=True, text=True, check=True)
    report = json.loads([line for line in done.stdout.splitlines() if line.startswith("{")][-1])
    return {"requests": report["requests"], "errors": report["errors"],
            "rps": report["requests"] / (report["duration_us"] / 1e6),
            "p50_ms": report["p50_us"] / 1000, "p99_ms": report["p99_us"] / 1000}


def python_load(url: str, cookie: str | None, seconds: float, _script=None) -> dict:
    """The same load from Python threads (keep-alive connections), for machines without wrk."""
    host, _, rest = url.removeprefix("http://").partition("/")
    headers = {"User-Agent": USER_AGENT, **({"Cookie": cookie} if cookie else {})}
    latencies: list[float] = []
    errors = [0]
    deadline = time.perf_counter() + seconds

    def connection():
        conn = http.client.HTTPConnection(host, timeout=30)
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                conn.request("GET", "/" + rest, headers=headers)
                answer = conn.getresponse()
                answer.read()
                ok = answer.status < 400
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(host, timeout=30)
                ok = False
            latencies.append((time.perf_counter() - started) * 1000)
            errors[0] += not ok
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=connection) for _ in range(CONNECTIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {"requests": len(latencies), "errors": errors[0], "rps": len(latencies) / elapsed,
            "p50_ms": percentile(latencies, 0.50), "p99_ms": percentile(latencies, 0.99)}


def loadavg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def percentile(ordered: list[float], p: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else 0.0


def drive(load, server: Server, path: str, cookie: str | None, args, script: Path) -> dict:
    server.wait_idle()
    load(server.base + path, cookie, args.warmup, script)  # both workers warm, as on a server that has been up
    server.wait_idle()
    return load(server.base + path, cookie, args.duration, script)


# ---------------------------------------------------------------------------------------------
# The two modes


def run_pages(args, data_dir: Path, scratch: Path) -> dict:
    pages = [p for p in PAGES if any(fnmatch.fnmatch(p.name, pat) for pat in args.pages.split(","))]
    if not pages:
        sys.exit(f"--pages {args.pages!r} matches none of: {', '.join(p.name for p in PAGES)}")
    targets = pick_targets(data_dir)
    print(f"\nIn-process (Flask test client), median of {args.runs} requests; asset page /assets/"
          f"{targets['asset']}, collection {targets['collection']}", flush=True)
    in_process = measure_in_process(data_dir, pages, targets, args.runs)

    use_wrk = args.client == "wrk" or (args.client == "auto" and shutil.which("wrk"))
    load = wrk_load if use_wrk else python_load
    if not use_wrk:
        print("wrk not found (Debian: apt-get install wrk): using the Python client", flush=True)
    script = scratch / "report.lua"
    script.write_text(WRK_REPORT)
    bare = Server("bare_app:application", data_dir, scratch / "bare.log", "/", ["--pythonpath", str(BENCH)])
    bridge = Server("app.wsgi:app", data_dir, scratch / "bridge.log", "/healthz")
    figures: list[Figures] = []
    try:
        cookies = {role: http_login(bridge.base, EMAILS[role]) for role in {p.role for p in pages} if role}
        cookies[None] = None
        for page in pages:
            status, html, sets_cookie = status_of(bridge.base + page.path.format(**targets), cookies[page.role])
            if status != 200:
                sys.exit(f"{page.path} as {page.role} answered {status} before the load")
            if sets_cookie:
                print(f"  note: {page.name} sets a cookie on every answer", flush=True)
        print(f"\nOver HTTP: gunicorn {WORKERS} sync workers, {'wrk' if use_wrk else 'Python client'}, "
              f"{CONNECTIONS} connections, {args.warmup:g} s warm-up + {args.duration:g} s per page; "
              f"the bare app before and after every {args.bare_every} pages", flush=True)
        load_before = loadavg()
        bares = [drive(load, bare, "/", None, args, script)]
        print(f"  {'bare Flask app':<28}{bares[-1]['rps']:8.0f} req/s", flush=True)
        for start in range(0, len(pages), args.bare_every):
            for page in pages[start:start + args.bare_every]:
                path = page.path.format(**targets)
                got = drive(load, bridge, path, cookies[page.role], args, script)
                sql, server_ms = in_process[page.name]
                figures.append(Figures(page.name, page.role or "—", path, got["rps"], got["p50_ms"], got["p99_ms"],
                                       got["requests"], got["errors"], sql=sql, server_ms=server_ms))
                print(f"  {page.name:<28}{got['rps']:8.0f} req/s  p50 {got['p50_ms']:6.1f} ms"
                      + (f"  {got['errors']} errors" if got["errors"] else ""), flush=True)
                bridge.wait_idle()
                if status_of(bridge.base + path, cookies[page.role])[0] != 200:
                    sys.exit(f"{path} as {page.role} stopped answering 200 during the load")
            bares.append(drive(load, bare, "/", None, args, script))
            print(f"  {'bare Flask app':<28}{bares[-1]['rps']:8.0f} req/s", flush=True)
            # Each page against the bare runs just before and after it: the machine's other work
            # changes over a run, and the ratio should see the same machine.
            for f in figures[start:]:
                f.ratio = f.rps / ((bares[-2]["rps"] + bares[-1]["rps"]) / 2)
        load_after = loadavg()
    finally:
        bridge.stop()
        bare.stop()
    print_table(figures, bares)
    print(f"\nLoad average (1 min) before and after the HTTP runs: {load_before} → {load_after} "
          f"(2 cores; other work on the machine shows here)")
    return {"bare": bares, "loadavg": [load_before, load_after],
            "targets": targets, "client": "wrk" if use_wrk else "python",
            "pages": [asdict(f) for f in figures]}


def print_table(figures: list[Figures], bares: list[dict]) -> None:
    print(f"\n{'page':<28}{'who':<10}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'× bare':>8}"
          f"{'SQL/req':>9}{'server ms':>11}")
    rps = sorted(b["rps"] for b in bares)
    print(f"{f'bare Flask app ({len(bares)} runs)':<38}{statistics.median(rps):>8.0f}"
          f"{statistics.median(b['p50_ms'] for b in bares):>9.1f}{statistics.median(b['p99_ms'] for b in bares):>9.1f}"
          f"   req/s {rps[0]:.0f}–{rps[-1]:.0f}")
    for f in figures:
        print(f"{f.name:<28}{f.who:<10}{f.rps:>8.0f}{f.p50_ms:>9.1f}{f.p99_ms:>9.1f}{f.ratio:>8.3f}"
              f"{f.sql:>9.0f}{f.server_ms:>11.1f}" + (f"   {f.errors} errors" if f.errors else ""))


def rss_kb(pid: int) -> dict[str, int]:
    """VmRSS (of it, RssAnon: the process's own memory) and VmHWM (peak) of a process, in kB, from
    /proc/<pid>/status."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return {k: int(fields[k].split()[0]) for k in ("VmRSS", "RssAnon", "VmHWM")}


def distinct_searches(vocab: list[str], count: int, rng: random.Random) -> list[str]:
    """`count` different query strings: 1–3 words of the library's commoner words, a fifth with a
    taxonomy term filter."""
    queries: dict[str, None] = {}
    while len(queries) < count:
        words = " ".join(rng.sample(vocab[:3000], rng.randint(1, 3)))
        query = "/search?q=" + quote_plus(words)
        if rng.random() < 0.2:
            query += f"&term={rng.randint(1, 6)}"
        queries[query] = None
    return list(queries)


def run_memory(args, data_dir: Path, scratch: Path, about: dict) -> dict:
    """RSS of each worker: after start, after a warm-up, after `--searches` distinct searches."""
    import seed

    vocab = about.get("vocab") or seed.vocabulary(random.Random(2121))
    queries = distinct_searches(vocab, args.searches, random.Random(21))
    bridge = Server("app.wsgi:app", data_dir, scratch / "bridge.log", "/healthz")
    try:
        pids = bridge.workers()
        seen = {"started": {pid: rss_kb(pid) for pid in pids}}
        cookie = http_login(bridge.base, EMAILS["rep"])
        python_load(bridge.base + "/search?q=roi", cookie, 3)  # both workers: index open, arrays read
        seen["warm"] = {pid: rss_kb(pid) for pid in pids}
        latencies: list[float] = []
        errors = [0]
        lock = threading.Lock()

        def client(mine: list[str]) -> None:  # one connection per worker, as two users searching
            host = bridge.base.removeprefix("http://")
            conn = http.client.HTTPConnection(host, timeout=60)
            for query in mine:
                started = time.perf_counter()
                conn.request("GET", query, headers={"User-Agent": USER_AGENT, "Cookie": cookie})
                answer = conn.getresponse()
                answer.read()
                with lock:
                    latencies.append((time.perf_counter() - started) * 1000)
                    errors[0] += answer.status != 200
            conn.close()

        started = time.perf_counter()
        threads = [threading.Thread(target=client, args=(queries[n::WORKERS],)) for n in range(WORKERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        seen["after"] = {pid: rss_kb(pid) for pid in pids}
    finally:
        bridge.stop()
    latencies.sort()
    print(f"\n{len(queries):,} distinct searches over HTTP in {elapsed:.0f} s ({WORKERS} connections): "
          f"p50 {percentile(latencies, .5):.1f} ms, p95 {percentile(latencies, .95):.1f} ms, "
          f"p99 {percentile(latencies, .99):.1f} ms, {errors[0]} not 200")
    print(f"\n{'worker':<10}{'started MB':>12}{'warm MB':>10}{'after MB':>10}{'anon MB':>10}{'peak MB':>10}")
    for pid in pids:
        print(f"{pid:<10}{seen['started'][pid]['VmRSS'] / 1024:>12.0f}{seen['warm'][pid]['VmRSS'] / 1024:>10.0f}"
              f"{seen['after'][pid]['VmRSS'] / 1024:>10.0f}{seen['after'][pid]['RssAnon'] / 1024:>10.0f}"
              f"{seen['after'][pid]['VmHWM'] / 1024:>10.0f}")
    return {"searches": len(queries), "errors": errors[0], "p50_ms": percentile(latencies, .5),
            "p95_ms": percentile(latencies, .95), "p99_ms": percentile(latencies, .99),
            "rss_kb": {str(pid): {stage: seen[stage][pid] for stage in seen} for pid in pids}}


def library_summary(data_dir: Path) -> dict:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Asset, UsageEvent, User

    with served_app(data_dir).app_context():
        return {name: db.session.scalar(select(func.count()).select_from(model))
                for name, model in (("assets", Asset), ("events", UsageEvent), ("users", User))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog="pages: " + ", ".join(p.name for p in PAGES))
    parser.add_argument("--library", choices=sorted(LIBRARIES), default="demo")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per page (default 10)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of load before each measurement")
    parser.add_argument("--pages", default="*", help="comma-separated names or patterns (insights.*.manager)")
    parser.add_argument("--bare-every", type=int, default=6, help="measure the bare app again after this many pages")
    parser.add_argument("--runs", type=int, default=15, help="in-process requests per page (medians)")
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--keep", type=Path, help="build the library once into DIR/<library> and reuse it")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--memory", action="store_true", help="measure worker RSS around distinct searches")
    parser.add_argument("--searches", type=int, default=2000)
    args = parser.parse_args()
    out = BENCH / "out"
    out.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out, prefix="pages-") as tmp:
        scratch = Path(tmp)
        data_dir = prepared_library(args, scratch)
        about = json.loads((data_dir / "library.json").read_text())
        summary = library_summary(data_dir)
        print(f"Library {args.library}: {summary['assets']:,} assets, {summary['events']:,} events, "
              f"{summary['users']} users", flush=True)
        result = run_memory(args, data_dir, scratch, about) if args.memory else run_pages(args, data_dir, scratch)
    if args.json:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        args.json.write_text(json.dumps({
            "command": " ".join(sys.argv), "library": args.library, **summary, "commit": commit.stdout.strip(),
            "at": datetime.now(UTC).isoformat(timespec="seconds"), "duration_s": args.duration,
            "connections": CONNECTIONS, "workers": WORKERS, **result}, indent=2))


if __name__ == "__main__":
    main()
