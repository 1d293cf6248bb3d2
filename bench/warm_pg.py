"""Warm, lean workers on the PostgreSQL search backend: a new process's first search (it reads its
copy of the search tables then) and a process's memory after many searches, on a library
`bench/search_pg.py` built and left on its server (`bench_search_<size>`).

Usage:
  .venv/bin/python bench/warm_pg.py first DATABASE_URL --size N [--processes 5] [--warm]
  .venv/bin/python bench/warm_pg.py worker DATABASE_URL --size N [--searches 1000]

`first` starts --processes new Pythons, one after the other; each creates the app and answers one
query of the hit mix through the page path, as a new gunicorn worker would: the figures are that
search's time, the backend's part of it, and the process's resident memory after it. With --warm,
each process first warms up as a gunicorn worker does before it accepts requests
(`search.warm()`), and the figure is the page path of the first request after it. `worker`
answers --searches queries of the mix (cycling) in one process and prints its peak resident memory
and what its copy holds.
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from search_pg_ab import mixes  # noqa: E402

from app import create_app, search  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import User  # noqa: E402
from app.search import index  # noqa: E402
from app.search.service import backend_query  # noqa: E402


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def app_for(url: str):
    data_dir = Path(tempfile.mkdtemp(prefix="bridge-bench-warm-"))
    return create_app({"DATA_DIR": data_dir, "FILES_DIR": data_dir / "files", "SQLALCHEMY_DATABASE_URI": url,
                       "SEARCH_BACKEND": "postgres"})


def request(user, item: dict):
    return search.build_request(user, text=item["text"], terms=item.get("segment", ()), stage=item.get("stage", ()))


def one(url: str, item: dict, warm: bool) -> None:
    """A new process's first search (printed as JSON)."""
    app = app_for(url)
    with app.app_context():
        user = db.session.get(User, 1)
        backend = index.backend()
        if warm:
            warmed = search.warm() or 0.0
            db.session.rollback()
            start = time.perf_counter()
            search.run_search(user, request(user, item), log=False)
            page = (time.perf_counter() - start) * 1000
            print(json.dumps({"engine_ms": warmed * 1000, "page_ms": page, "rss_mb": rss_mb()}))
            return
        start = time.perf_counter()
        backend.match(backend_query(request(user, item)))
        engine = (time.perf_counter() - start) * 1000
        backend.forget()
        db.session.rollback()
        start = time.perf_counter()
        search.run_search(user, request(user, item), log=False)
        page = (time.perf_counter() - start) * 1000
    print(json.dumps({"engine_ms": engine, "page_ms": page, "rss_mb": rss_mb()}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("first", "worker", "_one"))
    parser.add_argument("database_url")
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--processes", type=int, default=5)
    parser.add_argument("--searches", type=int, default=1000)
    parser.add_argument("--item", default="")
    parser.add_argument("--warm", action="store_true", help="first: warm up as a gunicorn worker does, then search")
    args = parser.parse_args()
    if args.what == "_one":
        return one(args.database_url, json.loads(args.item), args.warm)
    mix = mixes(args.size)["hits"]
    if args.what == "first":
        found = []
        for n in range(args.processes):
            out = subprocess.run([sys.executable, __file__, "_one", args.database_url, "--size", str(args.size),
                                  "--item", json.dumps(mix[n])] + (["--warm"] if args.warm else []),
                                 capture_output=True, text=True, check=True).stdout
            found.append(json.loads(out.strip().splitlines()[-1]))
        labels = ((("engine_ms", "the warm-up"), ("page_ms", "first request's page path after it")) if args.warm
                  else (("engine_ms", "first match (the copy read, then the query)"),
                        ("page_ms", "first page path (a copy read again)")))
        for key, label in (*labels, ("rss_mb", "resident after")):
            values = [f[key] for f in found]
            print(f"{args.size:,} assets, {label}: median {statistics.median(values):.1f}, "
                  f"max {max(values):.1f} ({args.processes} new processes)")
        return
    app = app_for(args.database_url)
    with app.app_context():
        user = db.session.get(User, 1)
        before = rss_mb()
        for n in range(args.searches):
            search.run_search(user, request(user, mix[n % len(mix)]), log=False)
            db.session.rollback()
        mirror = index.backend()._mirror
        print(f"{args.size:,} assets, {args.searches} searches in one process: peak resident {rss_mb():.0f} MB "
              f"(after the app started: {before:.0f} MB); postings held {mirror.held / 2**20:.1f} MB "
              f"in {len(mirror.entries)} keys")


if __name__ == "__main__":
    main()
