"""CPU time per search through the whole page path, on a library `search.py --keep` built: figures
that a busy machine inflates far less than wall time. Runs the checkout named by ROOT (default: this
one), so the same script measures an older commit's code in the same minutes:

    .venv/bin/python bench/search_cpu.py bench/out/keep/10000
    ROOT=/tmp/old .venv/bin/python bench/search_cpu.py /tmp/old-keep/10000   # a47bd07's checkout and library

The miss and long-query mixes are copied from search.py so an older checkout without them gets the
same queries. Prints CPU p50 / p95 per mix after 100 warm-up queries.
"""
# ruff: noqa: E402, E501
import inspect
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = os.environ.get("ROOT", str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, ROOT)
sys.path.insert(0, ROOT + "/bench")
os.environ.setdefault("BRIDGE_SECRET_KEY", "bench")
from search import library, query_mix
from seed import zipf_weights

from app import search
from app.extensions import db
from app.models import User

FILLER = "how do we i the a for with about our what is can to of in need something".split()
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




def main() -> None:
    data = Path(sys.argv[1])
    size = int(data.name)
    app, vocab, mix = library(data, size, 300)
    with app.app_context():
        user = db.session.get(User, 1)
        key = "terms" if "terms" in inspect.signature(search.build_request).parameters else "segment"

        def req(item):
            return search.build_request(user, text=item["text"], stage=item.get("stage", ()),
                                        **{key: item.get("segment", ())})

        mixes = {"hits": mix, "steady": query_mix(vocab, 300, random.Random(size + 1)),
                 "misses": miss_mix(vocab, 300, random.Random(size + 2)),
                 "long": long_mix(vocab, 300, random.Random(size + 3))}
        for item in mix[:100]:
            search.run_search(user, req(item), log=False)
        for name, queries in mixes.items():
            cpu = []
            for item in queries:
                start = time.process_time()
                search.run_search(user, req(item), log=False)
                cpu.append((time.process_time() - start) * 1000)
            cpu.sort()
            print(f"{ROOT} {name:8} CPU p50 {statistics.median(cpu):6.2f}  p95 {cpu[int(len(cpu) * .95)]:6.2f} ms",
                  flush=True)


if __name__ == "__main__":
    main()
