""""More like this" per asset: the backend's `similar` against Whoosh's own `more_like`, same run.

Usage:
  .venv/bin/python bench/related.py --data bench/out/keep/10k [--assets 200]

Works on a copy of a library built by bench/pages.py (`--keep`), opened as gunicorn opens it; the
copy's index is rebuilt first when its schema is older than the code's. For a sample of published
assets it times, per asset:

- **cold**: `similar` in a fresh process, each asset once: postings and document frequencies read
  from the index as the sample goes;
- **warm**: the same assets again with the answers forgotten but what they read still in memory
  (a worker that has been up, asked about an asset for the first time);
- **again**: the same asset again (the answer kept per thread);
- **baseline**: Whoosh's `more_like` on the asset's own text (12 key terms, the "body" field, the
  same visibility filter), what Bridge did before issue 21.
"""
from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))


def timed(calls) -> list[float]:
    times = []
    for call in calls:
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def summary(name: str, times: list[float], baseline: float | None = None) -> None:
    ordered = sorted(times)
    median = statistics.median(ordered)
    ratio = f"   {median / baseline:.3f}× baseline" if baseline else ""
    print(f"  {name:<44}p50 {median:7.2f} ms  p90 {ordered[int(len(ordered) * .9)]:7.2f} ms{ratio}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="a library built by bench/pages.py --keep")
    parser.add_argument("--assets", type=int, default=200)
    args = parser.parse_args()
    import pages
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from app.extensions import db
    from app.models import Asset
    from app.search import index

    with tempfile.TemporaryDirectory(dir=BENCH / "out", prefix="related-") as tmp:
        data = Path(tmp) / "data"
        shutil.copytree(args.data, data, symlinks=True)
        app = pages.served_app(data)
        today = date.today()
        with app.app_context():
            ids = list(db.session.scalars(select(Asset.id).where(Asset.status == "published").order_by(Asset.id)))
            sample = random.Random(21).sample(ids, min(args.assets, len(ids)))
            index.using(lambda backend: backend.fingerprints())  # rebuilt here if its schema is old
            backend = index.backend()
            backend.forget()
            cold = timed([lambda i=i: backend.similar(i, today, 4) for i in sample])
            backend._local.similar = None  # the answers forgotten, what they read kept
            warm = timed([lambda i=i: backend.similar(i, today, 4) for i in sample])
            again = timed([lambda i=i: backend.similar(i, today, 4) for i in sample])
            texts = {}
            for asset in db.session.scalars(select(Asset).where(Asset.id.in_(sample))
                                            .options(selectinload(Asset.versions))):
                version = asset.current_version
                texts[asset.id] = " ".join([asset.title, asset.description, " ".join(asset.tags), asset.body,
                                            version.text[:60_000] if version else ""])
            searcher = backend.searcher()
            allowed = backend.generation(searcher).allowed_docs(today)

            def more_like(asset_id: int) -> list[int]:
                docnum = searcher.document_number(id=str(asset_id))
                hits = searcher.more_like(docnum, "body", text=texts[asset_id], top=4, numterms=12, filter=allowed)
                return [int(hit["id"]) for hit in hits]

            baseline = timed([lambda i=i: more_like(i) for i in sample])
            db.engine.dispose()
        app.extensions["usage_log"].close()
    print(f"\n{len(ids):,} published assets, {len(sample)} sampled")
    base = statistics.median(baseline)
    summary("baseline: Whoosh more_like", baseline)
    summary("similar, cold (fresh process)", cold, base)
    summary("similar, warm (asset not answered before)", warm, base)
    summary("similar, the same asset again", again, base)


if __name__ == "__main__":
    main()
