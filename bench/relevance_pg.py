"""Relevance of the PostgreSQL search backend: what each part of its ranking buys, against Whoosh.

Usage: bash .ci/with-postgres .venv/bin/python bench/relevance_pg.py [--server URL]

Seeds the demo library into a new database on the PostgreSQL server (as bench/relevance.py does),
then ranks every judged query of bench/relevance/judgments.json as the demo rep, through
`GET /api/v1/search`, with Bridge on the Whoosh backend and on the PostgreSQL backend, the latter
also with one part of its ranking (app/search/postgres/bm25.py) switched at a time. Prints
nDCG@10 overall and per query type, and each variant's ratio to Whoosh.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import relevance  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app.search.postgres import bm25  # noqa: E402

# name → settings of bm25 changed for it (none: as shipped)
VARIANTS = {
    "PostgreSQL: BM25F from the postings (shipped)": {},
    "  no idf": {"idf": lambda documents, frequency: 1.0},
    "  no length normalisation (B = 0)": {"B": 0.0},
    "  equal weights for A, B, C, D": {"WEIGHTS": {"a": 1.0, "b": 1.0, "c": 1.0, "d": 1.0}},
    "  K1 = 2.0 (slower saturation)": {"K1": 2.0},
}


@contextmanager
def patched(changes: dict):
    saved = {name: getattr(bm25, name) for name in changes}
    for name, value in changes.items():
        setattr(bm25, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(bm25, name, value)


def with_changes(engine, changes: dict):
    def ranked(text: str) -> list[str]:
        with patched(changes):
            return engine(text)
    return ranked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default=os.environ.get("BRIDGE_TEST_POSTGRES_URL", ""))
    args = parser.parse_args()
    if not args.server:
        raise SystemExit("no PostgreSQL server: run under `bash .ci/with-postgres` or pass --server")
    admin = sa.create_engine(args.server, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with admin.connect() as connection:
        connection.execute(sa.text('DROP DATABASE IF EXISTS "bench_relevance" WITH (FORCE)'))
        connection.execute(sa.text('CREATE DATABASE "bench_relevance"'))
    url = make_url(args.server).set(database="bench_relevance").render_as_string(hide_password=False)
    data_dir = Path(tempfile.mkdtemp(prefix="bridge-relevance-pg-"))
    env = {"BRIDGE_DATA_DIR": str(data_dir), "BRIDGE_SECRET_KEY": "bench-relevance", "BRIDGE_DATABASE_URL": url}
    queries = relevance.load_judgments(relevance.JUDGMENTS)
    try:
        relevance.seed({**env, "BRIDGE_SEARCH_BACKEND": "whoosh"})  # Whoosh's index made too (PG's rows: triggers)
        postgres = relevance.bridge_app({**env, "BRIDGE_SEARCH_BACKEND": "postgres"})
        whoosh = relevance.bridge_app({**env, "BRIDGE_SEARCH_BACKEND": "whoosh"})
        documents = relevance.visible_documents(postgres)
        keys = {d.id: d.source_key for d in documents}
        engine = relevance.BridgeSearch(postgres, keys)
        engines = {"Whoosh": relevance.BridgeSearch(whoosh, keys),
                   **{name: with_changes(engine, changes) for name, changes in VARIANTS.items()}}
        run = relevance.evaluate(queries, engines, {d.source_key for d in documents})
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
        with admin.connect() as connection:
            connection.execute(sa.text('DROP DATABASE IF EXISTS "bench_relevance" WITH (FORCE)'))
    base = relevance.summary(run.of("Whoosh"))["ndcg@10"]
    print(f"\n{'':52} {'nDCG@10':>8} {'/Whoosh':>8}  " + " ".join(f"{t[:9]:>9}" for t in relevance.TYPES))
    for name in engines:
        overall = relevance.summary(run.of(name))["ndcg@10"]
        by_type = [relevance.summary(run.of(name, t))["ndcg@10"] for t in relevance.TYPES]
        print(f"{name:52} {overall:8.3f} {overall / base:8.3f}  " + " ".join(f"{v:9.3f}" for v in by_type))


if __name__ == "__main__":
    main()
