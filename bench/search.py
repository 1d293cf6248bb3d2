"""Search speed: Bridge's search path against SQLite FTS5 on the same synthetic library.

Usage: .venv/bin/python bench/search.py [--sizes 10000,100000] [--queries 300] [--keep DIR]

Prints, per library size: index build rate; query p50/p95 for (a) the whole search path a page
uses (index query, facet counts, ranking by use and rating, rows from the database, highlighted
snippets) on three mixes: hits (1–3 words), misses (misspelt and unknown words) and 8–12 word
queries; (b) the index query with facet counts alone, and (c) FTS5 with bm25, snippet() and
facet counts in one SQLite file; and the ratios. Medians and ratios, measured in one run.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("BRIDGE_SECRET_KEY", "bench")

from flask_migrate import upgrade  # noqa: E402
from seed import DOMAIN, KINDS, PRODUCTS, add_taxonomy, vocabulary, zipf_weights  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from app import create_app, search  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Asset, AssetVersion, User, asset_stage, asset_term  # noqa: E402
from app.search import index  # noqa: E402
from app.search.service import backend_query  # noqa: E402

FILLER = "how do we i the a for with about our what is can to of in need something".split()


def populate(app, count: int, rng: random.Random) -> list[str]:
    """Insert `count` published assets with ~400 words of text each, straight into the tables."""
    vocab = vocabulary(rng)
    weights = zipf_weights(len(vocab))
    with app.app_context():
        term_ids, stage_ids = add_taxonomy()
        owner = User(email="bench@example.com", name="Bench", role="marketer", password_hash="x")
        db.session.add(owner)
        db.session.commit()
        now = datetime(2026, 11, 1)
        for start in range(0, count, 2000):
            ids = range(start + 1, min(start + 2000, count) + 1)
            assets, versions, terms, stgs = [], [], [], []
            for i in ids:
                words = rng.choices(vocab, weights=weights, k=400)
                assets.append(dict(id=i, title=" ".join(rng.choices(vocab[:400], k=5)).title(),
                                   description=" ".join(rng.choices(vocab, weights=weights, k=20)),
                                   kind=rng.choice(KINDS), product=rng.choice(PRODUCTS),
                                   tags=rng.sample(DOMAIN, 2), owner_id=owner.id, status="published",
                                   body="", url="", created_at=now, updated_at=now))
                versions.append(dict(asset_id=i, number=1, stored_name=f"{i}.pdf", original_filename=f"{i}.pdf",
                                     file_type="pdf", mime_type="application/pdf", size_bytes=1000,
                                     sha256="0" * 64, page_count=2, text=" ".join(words), created_at=now))
                terms += [dict(asset_id=i, term_id=t) for t in rng.sample(term_ids, rng.randint(1, 2))]
                stgs += [dict(asset_id=i, stage_id=s) for s in rng.sample(stage_ids, rng.randint(1, 2))]
            # Bulk insert straight into the tables: the benchmark times indexing, not the ORM.
            with db.engine.begin() as conn:
                conn.execute(insert(Asset.__table__), assets)
                conn.execute(insert(AssetVersion.__table__), versions)
                conn.execute(insert(asset_term), terms)
                conn.execute(insert(asset_stage), stgs)
    return vocab


def query_mix(vocab: list[str], n: int, rng: random.Random) -> list[dict]:
    """1–3 terms, some phrases, some facets, popular queries repeated."""
    popular = [rng.choice(DOMAIN) + " " + rng.choice(DOMAIN) for _ in range(10)]
    mix = []
    for _ in range(n):
        roll = rng.random()
        if roll < 0.3:
            text = rng.choice(popular)
        elif roll < 0.4:
            text = '"' + " ".join(rng.sample(DOMAIN, 2)) + '"'
        else:
            text = " ".join(rng.choices(vocab[:800], k=rng.randint(1, 3)))
        facets = {}
        if rng.random() < 0.4:
            facets["segment"] = [str(rng.randint(1, 6))]  # a taxonomy term id (a segment's before issue 16)
        if rng.random() < 0.2:
            facets["stage"] = [str(rng.randint(1, 5))]
        mix.append({"text": text, **facets})
    return mix


def misspelt(word: str, rng: random.Random) -> str:
    """A word with one letter dropped, doubled or swapped with the next."""
    at = rng.randrange(len(word) - 1)
    edit = rng.choice(("drop", "double", "swap"))
    if edit == "drop":
        return word[:at] + word[at + 1:]
    if edit == "double":
        return word[:at] + word[at] + word[at:]
    return word[:at] + word[at + 1] + word[at] + word[at + 2:]


def miss_mix(vocab: list[str], n: int, rng: random.Random) -> list[dict]:
    """Queries that find nothing as typed: half are 1–2 misspelt library words (the corrector runs and
    finds results), half 1–3 words no asset holds (it runs and finds nothing)."""
    mix = []
    for _ in range(n):
        if rng.random() < 0.5:
            text = " ".join(misspelt(w, rng) for w in rng.sample([w for w in vocab[:2000] if len(w) > 4],
                                                                   rng.randint(1, 2)))
        else:
            text = " ".join("".join(rng.choice("qxzjvk") + rng.choice("aeiou") for _ in range(rng.randint(3, 5)))
                            for _ in range(rng.randint(1, 3)))
        mix.append({"text": text, **({"segment": [str(rng.randint(1, 6))]} if rng.random() < 0.2 else {})})
    return mix


def long_mix(vocab: list[str], n: int, rng: random.Random) -> list[dict]:
    """8–12 word queries as reps type sentences: library words (commoner ones more often) among a few
    stop words ("how do we …")."""
    weights = zipf_weights(3000, exponent=0.6)
    mix = []
    for _ in range(n):
        words = [rng.choice(FILLER) if rng.random() < 0.3 else rng.choices(vocab[:3000], weights=weights)[0]
                 for _ in range(rng.randint(8, 12))]
        mix.append({"text": " ".join(words), **({"segment": [str(rng.randint(1, 6))]} if rng.random() < 0.2 else {})})
    return mix


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


class Times(list):
    """Wall-clock milliseconds per call, with the process's CPU milliseconds per call in `.cpu`: on a
    busy machine the CPU time stays close to a quiet machine's wall time while the wall time does not."""

    def __init__(self):
        super().__init__()
        self.cpu: list[float] = []


def timed(fn, items) -> Times:
    out = Times()
    for item in items:
        start, cpu = time.perf_counter(), time.process_time()
        fn(item)
        out.append((time.perf_counter() - start) * 1000)
        out.cpu.append((time.process_time() - cpu) * 1000)
    return out


def fts5_setup(db_path: Path) -> float:
    conn = sqlite3.connect(db_path)
    start = time.perf_counter()
    conn.executescript("""
        DROP TABLE IF EXISTS bench_fts;
        CREATE VIRTUAL TABLE bench_fts USING fts5(title, description, content, tokenize='porter');
        INSERT INTO bench_fts(rowid, title, description, content)
            SELECT a.id, a.title, a.description, v.text FROM asset a JOIN asset_version v ON v.asset_id = a.id;
    """)
    conn.commit()
    conn.close()
    return time.perf_counter() - start


def fts5_query(conn: sqlite3.Connection, item: dict) -> None:
    """bm25-ranked top 20 with snippets, plus segment/stage/kind facet counts over all matches."""
    words = item["text"].replace('"', " ").split()
    match = ('"' + " ".join(words) + '"') if item["text"].startswith('"') else " AND ".join(words)
    where, args = "bench_fts MATCH ?", [match]
    if "segment" in item:
        where += " AND rowid IN (SELECT asset_id FROM asset_term WHERE term_id = ?)"
        args.append(int(item["segment"][0]))
    if "stage" in item:
        where += " AND rowid IN (SELECT asset_id FROM asset_stage WHERE stage_id = ?)"
        args.append(int(item["stage"][0]))
    conn.execute(f"SELECT rowid, snippet(bench_fts, 2, '<mark>', '</mark>', '…', 24) FROM bench_fts "
                 f"WHERE {where} ORDER BY bm25(bench_fts, 4.0, 1.5, 1.0) LIMIT 20", args).fetchall()
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS hits(id INTEGER PRIMARY KEY)")
    conn.execute("DELETE FROM hits")
    conn.execute(f"INSERT INTO hits SELECT rowid FROM bench_fts WHERE {where}", args)
    for table, column in (("asset_term", "term_id"), ("asset_stage", "stage_id")):
        conn.execute(f"SELECT {column}, count(*) FROM {table} WHERE asset_id IN (SELECT id FROM hits) "
                     f"GROUP BY {column}").fetchall()
    conn.execute("SELECT kind, count(*) FROM asset WHERE id IN (SELECT id FROM hits) GROUP BY kind").fetchall()


def run(size: int, queries: int, fts_budget_s: float, keep: Path | None) -> None:
    """Measure one library size, in `keep`/<size> (built there once, then reused) or a temporary
    directory removed afterwards."""
    data_dir = keep / str(size) if keep else Path(tempfile.mkdtemp(prefix=f"bridge-bench-{size}-"))
    try:
        measure(data_dir, size, queries, fts_budget_s)
    finally:
        if not keep:
            shutil.rmtree(data_dir, ignore_errors=True)


def library(data_dir: Path, size: int, queries: int):
    """The app on a library of `size` assets and the query mix; both kept in `data_dir` for reuse."""
    data_dir.mkdir(parents=True, exist_ok=True)
    saved = data_dir / "mix.json"
    app = create_app({"DATA_DIR": data_dir, "FILES_DIR": data_dir / "files",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{data_dir / 'bridge.db'}"})
    with app.app_context():
        upgrade()
    if saved.exists():
        kept = json.loads(saved.read_text())
        if len(kept["mix"]) >= queries:
            return app, kept["vocab"], kept["mix"][:queries]
        raise SystemExit(f"{data_dir} was built for {len(kept['mix'])} queries; use a new --keep directory")
    rng = random.Random(size)
    vocab = populate(app, size, rng)
    mix = query_mix(vocab, queries, rng)
    saved.write_text(json.dumps({"vocab": vocab, "mix": mix}))
    return app, vocab, mix


def measure(data_dir: Path, size: int, queries: int, fts_budget_s: float) -> None:
    app, vocab, mix = library(data_dir, size, queries)
    with app.app_context():
        start = time.perf_counter()
        search.rebuild()
        build = time.perf_counter() - start
        user = db.session.get(User, 1)

        def request(item):
            return search.build_request(user, text=item["text"], terms=item.get("segment", ()),
                                        stage=item.get("stage", ()))

        # The backend alone: queries are read (syntax, synonyms from the database) before timing.
        prepared = {id(item): backend_query(request(item)) for item in mix}

        def engine_only(item):
            index.backend().match(prepared[id(item)])

        def whole_path(item):
            search.run_search(user, request(item), log=False)

        # The cold passes start as a new server process would (no searcher, segment arrays,
        # term postings or query cache) and then see the mix's own repeats; the first query
        # pays for reading the segments' arrays. The steady pass follows the cold page pass
        # with a second mix of the same shape (other words, other popular queries), as a
        # server that has been answering searches for a while.
        index.backend().forget()
        engine = timed(engine_only, mix)
        index.backend().forget()
        whole = timed(whole_path, mix)
        steady = timed(whole_path, query_mix(vocab, queries, random.Random(size + 1)))
        misses = timed(whole_path, miss_mix(vocab, queries, random.Random(size + 2)))
        long = timed(whole_path, long_mix(vocab, queries, random.Random(size + 3)))
        index.backend().forget()
        cold = timed(engine_only, mix[:1])
        # An edit commits a small new segment: only that one is read; the rest stays cached.
        timed(engine_only, mix)
        warm = timed(engine_only, mix[1:2])
        asset = db.session.get(Asset, 1)
        asset.title += " revised"
        db.session.commit()
        changed = timed(engine_only, mix[1:2])

    def line(label, values):
        cpu = getattr(values, "cpu", None)
        return (f"  {label:<44} p50 {statistics.median(values):7.2f} ms   p95 {percentile(values, 0.95):7.2f} ms"
                + (f"   (CPU p50 {statistics.median(cpu):6.2f} / p95 {percentile(cpu, 0.95):6.2f} ms)" if cpu else ""))

    # Bridge's figures first: the FTS5 baseline with facet counts is slow on large libraries.
    print(f"\n{size:,} assets, {queries} queries")
    print(f"  index build (flask search reindex path)       {size / build:7.0f} assets/s ({build:.1f} s)")
    print(line("Bridge search page path (facets, snippets)", whole))
    print(line("Bridge index query + facet counts", engine))
    print(line("Bridge search page path, steady (2nd mix)", steady))
    print(line("Bridge search page path, misses", misses))
    print(line("Bridge search page path, 8-12 word queries", long))
    print(f"  first query of a new process (reads every segment's arrays): {cold[0]:.0f} ms")
    print(f"  first query after an edit (reads the edit's new segment):    {changed[0]:.0f} ms"
          f" (the same query just before the edit: {warm[0]:.0f} ms)", flush=True)
    fts_build = fts5_setup(data_dir / "bridge.db")
    conn = sqlite3.connect(data_dir / "bridge.db")
    timed(lambda item: fts5_query(conn, item), mix[:1])  # warm the page cache
    fts, started = [], time.perf_counter()
    for item in mix:  # FTS5's facet counts are slow on large libraries: stop after the budget
        fts += timed(lambda it: fts5_query(conn, it), [item])
        if time.perf_counter() - started > fts_budget_s:
            break
    conn.close()
    print(f"  FTS5 build                                    {size / fts_build:7.0f} assets/s ({fts_build:.1f} s)")
    print(line(f"SQLite FTS5 (bm25, snippet, facets; {len(fts)} q)", fts))
    same = whole[:len(fts)]  # the same queries on both sides
    print(f"  ratio Bridge page path / FTS5 (same {len(fts)} queries):   p50 "
          f"{statistics.median(same) / statistics.median(fts):.2f}×"
          f"   p95 {percentile(same, .95) / percentile(fts, .95):.2f}×", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--keep", type=Path, help="build each library once into DIR/<size> and reuse it")
    parser.add_argument("--fts-budget", type=float, default=300.0,
                        help="seconds of FTS5 queries per size (the first queries of the same mix)")
    args = parser.parse_args()
    for size in (int(s) for s in args.sizes.split(",")):
        run(size, args.queries, args.fts_budget, args.keep.resolve() if args.keep else None)


if __name__ == "__main__":
    main()
