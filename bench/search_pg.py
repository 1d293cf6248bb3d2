"""Search on PostgreSQL: the Whoosh and the PostgreSQL backends on one library, in one run.

Usage: bash .ci/with-postgres .venv/bin/python bench/search_pg.py [--sizes 10000,100000] [--queries 300]
       .venv/bin/python bench/search_pg.py --server postgresql+psycopg://user@host/postgres

Builds bench/search.py's synthetic library (the same seed, so the same corpus and query mixes) in a
PostgreSQL database of its own on the server, once per size, then for each backend: the build
(`search.rebuild`, the reindex path), the whole search page path (`run_search`: matching, facet
counts, use and rating, rows, snippets) on the three mixes of bench/search.py (hits: 1–3 words,
phrases, facets; misses: misspelt and unknown words, through the corrector; 8–12 word queries),
the backend's `match` alone, and the ratio PostgreSQL / Whoosh of each figure. Relevance (nDCG@10)
is bench/relevance.py's (judged queries on the demo library): `--database-url … --bridge-variant
whoosh:BRIDGE_SEARCH_BACKEND=whoosh` ranks with both backends on one PostgreSQL database.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("BRIDGE_SECRET_KEY", "bench")

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from search import long_mix, miss_mix, percentile, populate, query_mix, timed  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app import create_app, search  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import User  # noqa: E402
from app.search import index  # noqa: E402
from app.search.service import backend_query  # noqa: E402

BACKENDS = ("whoosh", "postgres")


def database(server: str, name: str) -> str:
    """The URL of a new, empty database `name` on the server (an older one of that name dropped)."""
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def app_for(url: str, data_dir: Path, backend: str):
    return create_app({"DATA_DIR": data_dir, "FILES_DIR": data_dir / "files", "SQLALCHEMY_DATABASE_URI": url,
                       "SEARCH_BACKEND": backend})


def build_library(app, size: int, queries: int) -> tuple[list[str], dict[str, list[dict]]]:
    """bench/search.py's library and query mixes (the same seeds), inserted with the search
    triggers off: each backend's build is timed apart."""
    with app.app_context():
        upgrade()
        db.engine.dispose()
        sa.event.listen(db.engine, "connect", lambda conn, _record: conn.cursor().execute(
            "SET session_replication_role = replica"))  # a superuser's setting: the test server's user is one
    rng = random.Random(size)
    vocab = populate(app, size, rng)
    with app.app_context():
        db.engine.dispose()
    return vocab, {"hits": query_mix(vocab, queries, rng), "misses": miss_mix(vocab, queries, random.Random(size + 2)),
                   "long": long_mix(vocab, queries, random.Random(size + 3))}


def measure(app, mixes: dict[str, list[dict]]) -> dict[str, list[float] | float]:
    """One backend's figures: its build, the backend alone on the hits, the page path on each mix."""
    found: dict[str, list[float] | float] = {}
    with app.app_context():
        start = time.perf_counter()
        search.rebuild()
        found["build_s"] = time.perf_counter() - start
        user = db.session.get(User, 1)

        def request(item):
            return search.build_request(user, text=item["text"], terms=item.get("segment", ()),
                                        stage=item.get("stage", ()))

        prepared = {id(item): backend_query(request(item)) for item in mixes["hits"]}
        forget = getattr(index.backend(), "forget", lambda: None)  # Whoosh starts cold, as a new process
        forget()
        found["engine"] = timed(lambda item: index.backend().match(prepared[id(item)]), mixes["hits"])
        for name, mix in mixes.items():
            forget()
            found[name] = timed(lambda item: search.run_search(user, request(item), log=False), mix)
            db.session.rollback()
    return found


def report(size: int, figures: dict[str, dict]) -> None:
    """Each figure for both backends, and PostgreSQL's over Whoosh's."""
    whoosh, postgres = figures["whoosh"], figures["postgres"]
    print(f"\n{size:,} assets (PostgreSQL database), {len(whoosh['hits'])} queries per mix")
    print(f"  {'':40} {'Whoosh p50 / p95':>20} {'PostgreSQL p50 / p95':>22} {'ratio PG/Whoosh':>18}")
    rates = size / whoosh["build_s"], size / postgres["build_s"]
    print(f"  {'build (reindex path)':40} {rates[0]:>13.0f} a/s   {rates[1]:>15.0f} a/s"
          f"   {postgres['build_s'] / whoosh['build_s']:>11.2f}× time")
    for key, label in (("hits", "page path, hits (1-3 words, facets)"), ("misses", "page path, misses (corrector)"),
                       ("long", "page path, 8-12 word queries"), ("engine", "backend match + facets alone")):
        w, p = whoosh[key], postgres[key]
        print(f"  {label:40} {statistics.median(w):7.1f} / {percentile(w, .95):6.1f} ms"
              f"   {statistics.median(p):8.1f} / {percentile(p, .95):6.1f} ms"
              f"   {statistics.median(p) / statistics.median(w):6.2f}×"
              f" / {percentile(p, .95) / percentile(w, .95):.2f}×",
              flush=True)


def report_one(size: int, figures: dict[str, dict]) -> None:
    """One backend's figures (no ratio)."""
    for name, found in figures.items():
        print(f"\n{size:,} assets (PostgreSQL database), {name}: build {size / found['build_s']:.0f} assets/s")
        for key in ("hits", "misses", "long", "engine"):
            print(f"  {key:8} p50 {statistics.median(found[key]):7.1f} ms   p95 {percentile(found[key], .95):7.1f} ms",
                  flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--server", default=os.environ.get("BRIDGE_TEST_POSTGRES_URL", ""),
                        help="a PostgreSQL server's maintenance database URL (default: .ci/with-postgres's)")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="which to measure (both: the ratios too)")
    args = parser.parse_args()
    if not args.server:
        raise SystemExit("no PostgreSQL server: run under `bash .ci/with-postgres` or pass --server")
    for size in (int(s) for s in args.sizes.split(",")):
        data_dir = Path(tempfile.mkdtemp(prefix=f"bridge-bench-pg-{size}-"))
        try:
            url = database(args.server, f"bench_search_{size}")
            _vocab, mixes = build_library(app_for(url, data_dir, "whoosh"), size, args.queries)
            figures = {name: measure(app_for(url, data_dir, name), mixes) for name in args.backends.split(",")}
            if set(figures) == set(BACKENDS):
                report(size, figures)
            else:
                report_one(size, figures)
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
