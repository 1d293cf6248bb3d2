"""The PostgreSQL backend's `match` against itself at another git revision, on a library already built.

Usage: .venv/bin/python bench/search_pg_ab.py DATABASE_URL [--size 10000] [--against HEAD~1]
                                              [--mix hits|phrases|long]

DATABASE_URL is a database `bench/search_pg.py` built and left on its server (`bench_search_<size>`,
kept until its next run). The working tree's backend and the one at `--against` (its `backend`,
`bm25` and `facets` modules, read with `git show`) answer the same queries in one process, in
alternating order, each query twice: the ratio of the two is what to trust on a noisy machine. It
also counts the queries whose ids, total and facet counts differ: a change of speed should change
none. The mixes are `search_pg.py`'s for that size (its library's draws replayed without a database).
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("BRIDGE_SECRET_KEY", "bench")

from search import long_mix, percentile, query_mix  # noqa: E402
from seed import DOMAIN, KINDS, PRODUCTS, STAGES, TERMS, vocabulary, zipf_weights  # noqa: E402

from app import create_app, search  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import User  # noqa: E402
from app.search.postgres.backend import PostgresBackend  # noqa: E402
from app.search.service import backend_query  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def mixes(size: int) -> dict[str, list[dict]]:
    """`search_pg.py`'s hit and long mixes for `size`: `search.populate`'s draws replayed, then the mixes."""
    rng = random.Random(size)
    vocab = vocabulary(rng)
    weights = zipf_weights(len(vocab))
    term_ids, stage_ids = list(range(len(TERMS))), list(range(len(STAGES)))
    for _ in range(size):  # populate draws these per asset, in this order
        rng.choices(vocab, weights=weights, k=400)
        rng.choices(vocab[:400], k=5)
        rng.choices(vocab, weights=weights, k=20)
        rng.choice(KINDS), rng.choice(PRODUCTS), rng.sample(DOMAIN, 2)
        rng.sample(term_ids, rng.randint(1, 2)), rng.sample(stage_ids, rng.randint(1, 2))
    hits = query_mix(vocab, 300, rng)
    return {"hits": hits, "phrases": [m for m in hits if m["text"].startswith('"')],
            "long": long_mix(vocab, 300, random.Random(size + 3))}


def backend_at(revision: str):
    """The PostgreSQL backend as it was at `revision` (its own bm25 and facets), as a new module."""
    def load(path: str, name: str, replace: tuple[tuple[str, str], ...] = ()) -> types.ModuleType:
        source = subprocess.run(["git", "-C", str(ROOT), "show", f"{revision}:{path}"], capture_output=True,
                                text=True, check=True).stdout
        for old, new in replace:
            source = source.replace(old, new)
        module = types.ModuleType(name)
        sys.modules[name] = module
        exec(compile(source, f"{revision}:{path}", "exec"), module.__dict__)  # noqa: S102 (our own history)
        return module

    load("app/search/postgres/facets.py", "ab_facets")
    load("app/search/postgres/bm25.py", "ab_bm25")
    return load("app/search/postgres/backend.py", "ab_backend", (
        ("from app.search.postgres.facets import", "from ab_facets import"),
        ("from app.search.postgres import bm25, tsquery",
         "import ab_bm25 as bm25\nfrom app.search.postgres import tsquery"),
    )).PostgresBackend()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database_url")
    parser.add_argument("--size", type=int, default=10000)
    parser.add_argument("--against", default="HEAD~1")
    parser.add_argument("--mix", choices=("hits", "phrases", "long"), default="hits")
    parser.add_argument("--cold", action="store_true",
                        help="the working tree's backend forgets the postings it read before each query")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="bridge-bench-ab-"))
    app = create_app({"DATA_DIR": data_dir, "FILES_DIR": data_dir / "files",
                      "SQLALCHEMY_DATABASE_URI": args.database_url, "SEARCH_BACKEND": "postgres"})
    mix = mixes(args.size)[args.mix]
    with app.app_context():
        user = db.session.get(User, 1)
        queries = [backend_query(search.build_request(user, text=m["text"], terms=m.get("segment", ()),
                                                      stage=m.get("stage", ()))) for m in mix]
        backends = {"now": PostgresBackend(), args.against: backend_at(args.against)}
        for query in queries[:20]:  # warm both: statistics, analysed words, the server's buffers
            for backend in backends.values():
                backend.match(query)
        times: dict[str, list[float]] = {name: [] for name in backends}
        same = 0
        for round_ in range(2):
            order = list(backends.items()) if round_ == 0 else list(reversed(backends.items()))
            for query in queries:
                answers = []
                for name, backend in order:
                    if args.cold and hasattr(backend, "_mirror"):
                        backend._mirror.entries.clear()
                        backend._mirror.held = 0
                    start = time.perf_counter()
                    found = backend.match(query)
                    times[name].append((time.perf_counter() - start) * 1000)
                    answers.append((found.ids, found.total, found.facets))
                    db.session.rollback()
                same += answers[0] == answers[1]
    print(f"{args.size:,} assets, mix {args.mix}: {len(queries)} queries, each twice; "
          f"same ids, total and facets: {same} / {2 * len(queries)}")
    for name, values in times.items():
        print(f"  {name:>12}  p50 {statistics.median(values):7.1f} ms   p95 {percentile(values, .95):7.1f} ms")
    now, then = times["now"], times[args.against]
    print(f"  {'now / then':>12}  p50 {statistics.median(now) / statistics.median(then):7.3f}     "
          f"p95 {percentile(now, .95) / percentile(then, .95):7.3f}")


if __name__ == "__main__":
    main()
