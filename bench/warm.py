"""Warm, lean workers: a rebuild's peak memory and rate, a new worker's first search, and a worker's
memory after 1,000 searches, on a library kept by `search.py --keep` (or built here on first use).

Usage:
  .venv/bin/python bench/warm.py rebuild DIR --size N     # rebuild the index; rate and peak RSS of every process
  .venv/bin/python bench/warm.py first DIR --size N [--warm]  # first search of new processes (median of --processes)
  .venv/bin/python bench/warm.py worker DIR --size N      # peak RSS of one process after --searches searches

DIR is a `--keep` directory of `search.py` (the library is DIR/<N>). Each `first` process starts
Python, creates the app and answers one query of the mix, as a new gunicorn worker would: the
figures are that query's time through the page path (and its index part), and the process's time
from start to the answer.
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
START = time.perf_counter()

from search import library, long_mix, miss_mix, query_mix  # noqa: E402

from app import search  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import User  # noqa: E402


def peak_mb() -> tuple[float, float]:
    """(this process's, the largest waited-for child's) peak resident memory in MB."""
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)


def rebuild(data_dir: Path, size: int, queries: int) -> None:
    app, _vocab, _mix = library(data_dir, size, queries)
    with app.app_context():
        started = time.perf_counter()
        count = search.rebuild()
        took = time.perf_counter() - started
    own, child = peak_mb()
    print(json.dumps({"size": size, "indexed": count, "seconds": round(took, 1), "rate": round(count / took),
                      "peak_mb_parent": round(own), "peak_mb_indexing_process": round(child),
                      "build_mb": app.config["SEARCH_BUILD_MB"]}))


def first(data_dir: Path, size: int, queries: int, index: int, warm: bool) -> None:
    """One new process's first query (run by `first_many` in a fresh interpreter each time); with
    `warm`, after the warm-up a gunicorn worker runs before accepting requests."""
    app, _vocab, mix = library(data_dir, size, queries)
    with app.app_context():
        warmed = search.warm() if warm else None
        user = db.session.get(User, 1)
        item = mix[index]
        request = search.build_request(user, text=item["text"], terms=item.get("segment", ()),
                                       stage=item.get("stage", ()))
        started = time.perf_counter()
        search.run_search(user, request, log=False)
        page = (time.perf_counter() - started) * 1000
    print(json.dumps({"page_ms": round(page, 1), "warm_up_ms": round(warmed * 1000) if warmed else None,
                      "since_start_ms": round((time.perf_counter() - START) * 1000),
                      "query": item["text"]}))


def first_many(data_dir: Path, size: int, queries: int, processes: int, warm: bool) -> None:
    found = []
    for index in range(processes):
        out = subprocess.run([sys.executable, __file__, "_first", str(data_dir.parent), "--size", str(size),
                              "--queries", str(queries), "--index", str(index)] + (["--warm"] if warm else []),
                             check=True, capture_output=True, text=True).stdout
        found.append(json.loads(out.strip().splitlines()[-1]))
        print(f"  {found[-1]}", flush=True)
    pages = [f["page_ms"] for f in found]
    print(f"{size:,} assets, first search of {processes} new processes{' after the warm-up' if warm else ''}: "
          f"page path median "
          f"{statistics.median(pages):.0f} ms (min {min(pages):.0f}, max {max(pages):.0f}); "
          f"process start to answer median {statistics.median(f['since_start_ms'] for f in found):.0f} ms")


def worker(data_dir: Path, size: int, queries: int, searches: int) -> None:
    app, vocab, mix = library(data_dir, size, queries)
    import random

    rng = random.Random(size + 7)
    items = (mix + query_mix(vocab, queries, rng) + miss_mix(vocab, queries // 3, rng)
             + long_mix(vocab, queries // 3, rng))
    with app.app_context():
        user = db.session.get(User, 1)
        started = time.perf_counter()
        for n in range(searches):
            item = items[n % len(items)]
            search.run_search(user, search.build_request(user, text=item["text"], terms=item.get("segment", ()),
                                                         stage=item.get("stage", ())), log=False)
        took = time.perf_counter() - started
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    print(json.dumps({"size": size, "searches": searches, "seconds": round(took, 1),
                      "VmHWM_mb": int(status["VmHWM"].split()[0]) // 1024,
                      "VmRSS_mb": int(status["VmRSS"].split()[0]) // 1024}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("rebuild", "first", "worker", "_first"))
    parser.add_argument("keep", type=Path, help="the --keep directory of search.py")
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--queries", type=int, default=300, help="as the library was kept with (search.py's --queries)")
    parser.add_argument("--processes", type=int, default=5)
    parser.add_argument("--searches", type=int, default=1000)
    parser.add_argument("--index", type=int, default=0)
    parser.add_argument("--warm", action="store_true", help="first: warm up as a gunicorn worker does, then search")
    args = parser.parse_args()
    data_dir = args.keep.resolve() / str(args.size)
    if args.what == "rebuild":
        rebuild(data_dir, args.size, args.queries)
    elif args.what == "first":
        first_many(data_dir, args.size, args.queries, args.processes, args.warm)
    elif args.what == "_first":
        first(data_dir, args.size, args.queries, args.index, args.warm)
    else:
        worker(data_dir, args.size, args.queries, args.searches)


if __name__ == "__main__":
    main()
