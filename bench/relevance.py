"""Search relevance: Bridge's ranking against stock BM25 (SQLite FTS5) on judged demo queries.

Usage: .venv/bin/python bench/relevance.py [--keep DIR] [--json OUT] [--worst N]
       [--database-url URL] [--bridge-variant NAME:ENV=VALUE[,ENV=VALUE]]

Seeds the demo library with the `flask` commands (into a temporary data directory, or DIR),
asks every engine for the top 10 of each query in bench/relevance/judgments.json and prints
nDCG@10, recall@10, MRR@10 and the zero-result rate, overall and per query type, then the
Bridge queries that ranked worst. An engine is any function from query text to a ranked list
of manifest paths (`Engine`): another backend is one more entry in `engines()`, or, when it is
Bridge under other settings, a `--bridge-variant` (e.g. pg:BRIDGE_SEARCH_BACKEND=postgres).
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
JUDGMENTS = ROOT / "bench" / "relevance" / "judgments.json"
MANIFEST = ROOT / "collateral" / "manifest.csv"
TYPES = ("keyword", "sentence", "typo", "synonym", "dimension", "phrase")
K = 10
USEFUL = 2  # recall and MRR count results graded at least this ("useful" or "exactly right")
# The demo's rep, as `flask seed-demo` prints it: the benchmark searches as that rep would.
REP_EMAIL, REP_PASSWORD = "rep@example.com", "bridge-demo"

Engine = Callable[[str], list[str]]  # query text -> manifest paths (source_key), best first


# --------------------------------------------------------------------------- judgments

@dataclass
class Judged:
    id: str
    type: str
    text: str
    intent: str
    grades: dict[str, int]


def load_judgments(path: Path) -> list[Judged]:
    """The judged queries, checked against the manifest so a mistyped path cannot pass unnoticed."""
    with MANIFEST.open(newline="", encoding="utf-8") as fh:
        known = {row["file"] for row in csv.DictReader(fh)}
    queries = []
    for item in json.loads(path.read_text(encoding="utf-8"))["queries"]:
        judged = Judged(item["id"], item["type"], item["query"], item["intent"], dict(item["relevant"]))
        problems = [] if judged.type in TYPES else [f"unknown type {judged.type!r}"]
        problems += [f"{key} is not in the manifest" for key in judged.grades if key not in known]
        problems += [f"{key}: grade {g!r} is not 1-3" for key, g in judged.grades.items() if g not in (1, 2, 3)]
        if not any(g >= USEFUL for g in judged.grades.values()):
            problems.append(f"no asset graded {USEFUL} or more")
        if problems:
            raise SystemExit(f"{path}: query {judged.id!r}: " + "; ".join(problems))
        queries.append(judged)
    if len({q.id for q in queries}) != len(queries):
        raise SystemExit(f"{path}: query ids must be unique")
    return queries


# --------------------------------------------------------------------------- metrics

def dcg(grades: list[int]) -> float:
    return sum((2 ** g - 1) / math.log2(rank + 2) for rank, g in enumerate(grades[:K]))


@dataclass
class Scored:
    ranked: list[str]
    ndcg: float
    recall: float
    rr: float

    @property
    def zero(self) -> bool:
        return not self.ranked


def score(ranked: list[str], grades: dict[str, int]) -> Scored:
    """nDCG@10 (gain 2^grade - 1), recall@10 and reciprocal rank of the first useful result."""
    top = ranked[:K]
    ideal = dcg(sorted(grades.values(), reverse=True))
    useful = {key for key, g in grades.items() if g >= USEFUL}
    found = [key for key in top if key in useful]
    first = next((rank for rank, key in enumerate(top, start=1) if key in useful), None)
    return Scored(top, dcg([grades.get(key, 0) for key in top]) / ideal,
                  len(found) / len(useful), 1 / first if first else 0.0)


def summary(results: list[Scored]) -> dict[str, float]:
    n = len(results) or 1
    return {"ndcg@10": sum(r.ndcg for r in results) / n, "recall@10": sum(r.recall for r in results) / n,
            "mrr@10": sum(r.rr for r in results) / n, "zero_results": sum(r.zero for r in results) / n,
            "queries": len(results)}


# --------------------------------------------------------------------------- the library

@contextmanager
def environment(values: dict[str, str]):
    """Bridge reads its settings from BRIDGE_* variables; set some for the duration of a block."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def flask_command(env: dict[str, str], *args: str) -> None:
    """Run a `flask` command as an operator would, in its own process."""
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT,
                          env={**os.environ, **env}, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    if done.stdout.strip():
        print(f"  flask {' '.join(args)}: {done.stdout.strip().splitlines()[-1]}", flush=True)


def seed(env: dict[str, str]) -> None:
    """Migrate and load the demo. Re-seeding a kept library only picks up changed collateral."""
    flask_command(env, "db", "upgrade")
    flask_command(env, "seed-demo")


def bridge_app(env: dict[str, str]):
    from app import create_app

    with environment(env):
        return create_app()


@dataclass
class Document:
    """One asset as a rep may see it, with the text both Bridge and the stock engine index."""

    id: int
    source_key: str
    title: str
    tags: str
    taxonomy: str
    description: str
    body: str
    file_text: str


def visible_documents(app) -> list[Document]:
    """Published, unexpired assets (what a rep may see), read from the database."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from app.extensions import db
    from app.models import Asset

    today = date.today()
    with app.app_context():
        assets = db.session.scalars(select(Asset).options(
            selectinload(Asset.terms), selectinload(Asset.stages), selectinload(Asset.versions)))
        return [Document(a.id, a.source_key, a.title, " ".join(a.tags or []),
                         " ".join([a.product or "", *(t.name for t in a.terms), *(s.name for s in a.stages),
                                   a.kind_label]),
                         a.description or "", a.body or "",
                         a.current_version.text if a.current_version else "")
                for a in assets if a.source_key and a.is_visible_on(today)]


# --------------------------------------------------------------------------- engines

class BridgeSearch:
    """Bridge's own ranking, as a logged-in rep gets it from `GET /api/v1/search`.

    `rewrite` changes the query text before it is sent (the OR-ed diagnostic engine).
    """

    def __init__(self, app, source_keys: dict[int, str], rewrite: Callable[[str], str] = str):
        self.client = app.test_client()
        self.source_keys = source_keys
        self.rewrite = rewrite
        self.suggestions: dict[str, str] = {}
        log_in(self.client, REP_EMAIL, REP_PASSWORD)

    def __call__(self, text: str) -> list[str]:
        answer = self.client.get("/api/v1/search", query_string={"q": self.rewrite(text)})
        if answer.status_code != 200:
            raise SystemExit(f"GET /api/v1/search?q={text!r} answered {answer.status_code}")
        found = answer.get_json()
        if found.get("suggestion"):
            self.suggestions[text] = found["suggestion"]
        # An id the catalogue lacks would be an asset the rep may not see: keep it, as a miss.
        return [self.source_keys.get(r["id"], f"(hidden asset {r['id']})") for r in found["results"][:K]]


def log_in(client, email: str, password: str) -> None:
    """Log in through the login form, CSRF token and all, as a browser does."""
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page)
    answer = client.post("/login", data={"email": email, "password": password,
                                         "csrf_token": token.group(1) if token else ""})
    if answer.status_code != 302:
        raise SystemExit(f"could not log in as {email} (status {answer.status_code})")


def fts5_index(documents: list[Document]) -> sqlite3.Connection:
    """A stock FTS5 table (porter stemming) over the same text, in memory."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE doc USING fts5(source_key UNINDEXED, title, tags, taxonomy, "
                 "description, body, file_text, tokenize='porter unicode61')")
    conn.executemany("INSERT INTO doc VALUES (?, ?, ?, ?, ?, ?, ?)",
                     [(d.source_key, d.title, d.tags, d.taxonomy, d.description, d.body, d.file_text)
                      for d in documents])
    return conn


# Bridge's index writes title, tags, product, taxonomy names and kind three times ahead of the
# body text (KEYWORD_WEIGHT in its search module); the same 3:1 as bm25() column weights.
FTS5_WEIGHTS = (3.0, 3.0, 3.0, 1.0, 1.0, 1.0)  # title, tags, taxonomy, description, body, file_text


def query_parts(text: str) -> list[str]:
    """Quoted phrases and single words, each in double quotes; punctuation and operators dropped."""
    parts = []
    for phrase, rest in re.findall(r'"([^"]*)"|([^"]+)', text):
        if re.search(r"\w", phrase):
            parts.append('"' + " ".join(re.findall(r"\w+", phrase)) + '"')
        parts += [f'"{word}"' for word in re.findall(r"\w+", rest)]
    return parts


def fts5_match(text: str, operator: str) -> str:
    """The query as FTS5 syntax, every word or phrase quoted (so AND, NOT and NEAR are plain
    words), joined by `operator` ("AND" or "OR")."""
    return f" {operator} ".join(query_parts(text))


def any_word(text: str) -> str:
    """Bridge's syntax for "any of these words or phrases": single words unquoted (shorter, as
    Bridge cuts a query at 200 characters) and in lower case (so none is read as an operator)."""
    return " OR ".join(p.strip('"').lower() if " " not in p else p for p in query_parts(text))


def fts5_engine(conn: sqlite3.Connection, operator: str) -> Engine:
    weights = ", ".join(map(str, FTS5_WEIGHTS))

    def search(text: str) -> list[str]:
        match = fts5_match(text, operator)
        if not match:
            return []
        rows = conn.execute(f"SELECT source_key FROM doc WHERE doc MATCH ? ORDER BY bm25(doc, 0, {weights}) "
                            f"LIMIT {K}", [match])
        return [key for (key,) in rows]

    return search


def engines(app, documents: list[Document], variants: dict[str, object]) -> dict[str, Engine]:
    """Every engine under comparison, by name; Bridge first."""
    keys = {d.id: d.source_key for d in documents}
    conn = fts5_index(documents)
    return {
        "Bridge": BridgeSearch(app, keys),
        **{f"Bridge[{name}]": BridgeSearch(variant, keys) for name, variant in variants.items()},
        # Not a product: Bridge's scoring given the words as an OR, to separate what the
        # all-words matching rule costs from what the ranking does.
        "Bridge, words OR-ed": BridgeSearch(app, keys, rewrite=any_word),
        "FTS5 AND": fts5_engine(conn, "AND"),
        "FTS5 OR": fts5_engine(conn, "OR"),
    }


# --------------------------------------------------------------------------- report

@dataclass
class Run:
    queries: list[Judged]
    results: dict[str, dict[str, Scored]] = field(default_factory=dict)  # engine -> query id -> scored

    def of(self, engine: str, kind: str | None = None) -> list[Scored]:
        return [self.results[engine][q.id] for q in self.queries if kind in (None, q.type)]


def evaluate(queries: list[Judged], engine_map: dict[str, Engine], visible: set[str]) -> Run:
    run = Run(queries)
    hidden = sorted({k for q in queries for k in q.grades} - visible)
    if hidden:
        print(f"Judged but not visible to reps today (left out of the ideal ranking): {', '.join(hidden)}")
    for name, engine in engine_map.items():
        run.results[name] = {q.id: score(engine(q.text), {k: g for k, g in q.grades.items() if k in visible})
                             for q in queries}
    return run


def short(key: str) -> str:
    return key.replace("https://videos.lumenfold.example/", "video/")


def print_report(run: Run, worst: int, suggestions: dict[str, str]) -> None:
    names = list(run.results)
    width = max(map(len, names)) + 2
    print(f"\n{len(run.queries)} judged queries, top {K}; recall and MRR count results graded ≥ {USEFUL}\n")
    print(f"{'engine':<{width}}{'nDCG@10':>9}{'recall@10':>11}{'MRR@10':>9}{'zero results':>14}")
    for name in names:
        s = summary(run.of(name))
        print(f"{name:<{width}}{s['ndcg@10']:>9.3f}{s['recall@10']:>11.3f}{s['mrr@10']:>9.3f}"
              f"{s['zero_results']:>13.0%} ")
    counts = {t: len([q for q in run.queries if q.type == t]) for t in TYPES}
    for metric, label, fmt in (("ndcg@10", "nDCG@10", "{:>15.3f}"), ("zero_results", "zero results", "{:>15.0%}")):
        print(f"\n{label} by query type")
        print(f"{'':<{width}}" + "".join(f"{f'{t} ({counts[t]})':>15}" for t in TYPES))
        for name in names:
            print(f"{name:<{width}}" + "".join(fmt.format(summary(run.of(name, t))[metric]) for t in TYPES))
    print_worst(run, worst, suggestions)


def print_worst(run: Run, worst: int, suggestions: dict[str, str]) -> None:
    """Bridge's misses: every zero-result query on one line, then the worst-ranked of the rest
    with what came back and what should have."""
    if worst <= 0:
        return
    bridge, stock = run.results["Bridge"], run.results["FTS5 OR"]
    empty = sorted((q for q in run.queries if bridge[q.id].zero), key=lambda q: (TYPES.index(q.type), q.text))
    print(f"\nBridge found nothing for {len(empty)} queries (FTS5 OR's nDCG@10 in brackets)")
    for q in empty:
        hint = f'  → "Did you mean: {suggestions[q.text]}"' if q.text in suggestions else ""
        print(f"  [{q.type:<9}] ({stock[q.id].ndcg:.2f}) {q.text[:80]!r}{hint}")
    ranked = sorted((q for q in run.queries if not bridge[q.id].zero),
                    key=lambda q: (bridge[q.id].ndcg, -stock[q.id].ndcg))[:worst]
    print(f"\nWorst-ranked {len(ranked)} Bridge queries with results: result [grade], judged [grade] at Bridge's rank")
    for q in ranked:
        got = bridge[q.id]
        print(f"\n  {got.ndcg:.2f} (FTS5 OR {stock[q.id].ndcg:.2f})  [{q.type}] {q.text[:80]!r}  ({q.intent})")
        print("     Bridge: " + ", ".join(f"{n}. {short(k)} [{q.grades.get(k, 0)}]"
                                          for n, k in enumerate(got.ranked[:5], start=1)))
        rank = {k: n for n, k in enumerate(got.ranked, start=1)}
        wanted = sorted(q.grades.items(), key=lambda kv: -kv[1])[:5]
        print("     judged: " + ", ".join(f"{short(k)} [{g}] at {rank.get(k, '—')}" for k, g in wanted))


def figures(run: Run) -> dict:
    """Everything printed, as JSON for comparing runs (and backends) later."""
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    out = {"date": date.today().isoformat(), "commit": commit.stdout.strip(), "k": K, "useful_grade": USEFUL,
           "queries": len(run.queries), "engines": {}}
    for name, by_id in run.results.items():
        out["engines"][name] = {
            "overall": summary(run.of(name)),
            "by_type": {t: summary(run.of(name, t)) for t in TYPES},
            "queries": {q.id: {"query": q.text, "type": q.type, "ndcg@10": round(by_id[q.id].ndcg, 4),
                               "recall@10": round(by_id[q.id].recall, 4), "rr": round(by_id[q.id].rr, 4),
                               "top10": by_id[q.id].ranked} for q in run.queries},
        }
    return out


# --------------------------------------------------------------------------- main

def parse_variant(raw: str) -> tuple[str, dict[str, str]]:
    """NAME:ENV=VALUE[,ENV=VALUE]: Bridge again, on the same library, with other settings."""
    name, _, settings = raw.partition(":")
    pairs = [p.partition("=") for p in settings.split(",") if p]
    if not name or not pairs or any(not key or not sep for key, sep, _ in pairs):
        raise argparse.ArgumentTypeError("expected NAME:ENV=VALUE[,ENV=VALUE], e.g. pg:BRIDGE_SEARCH_BACKEND=postgres")
    return name, {key: value for key, _, value in pairs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="seed the demo into DIR once and reuse it")
    parser.add_argument("--json", type=Path, help="write the figures, per query too, to this file")
    parser.add_argument("--worst", type=int, default=12, help="how many of Bridge's worst queries to list")
    parser.add_argument("--judgments", type=Path, default=JUDGMENTS)
    parser.add_argument("--database-url", help="seed and search this (empty) database instead of SQLite")
    parser.add_argument("--bridge-variant", type=parse_variant, action="append", default=[],
                        help="also rank with Bridge under these settings (repeatable)")
    args = parser.parse_args()
    queries = load_judgments(args.judgments)
    data_dir = args.keep.resolve() if args.keep else Path(tempfile.mkdtemp(prefix="bridge-relevance-"))
    env = {"BRIDGE_DATA_DIR": str(data_dir), "BRIDGE_SECRET_KEY": "bench-relevance"}
    if args.database_url:
        env["BRIDGE_DATABASE_URL"] = args.database_url
    try:
        print(f"Seeding the demo into {data_dir}", flush=True)
        seed(env)
        app = bridge_app(env)
        variants = {name: bridge_app({**env, **extra}) for name, extra in args.bridge_variant}
        documents = visible_documents(app)
        engine_map = engines(app, documents, variants)
        run = evaluate(queries, engine_map, {d.source_key for d in documents})
        print_report(run, args.worst, engine_map["Bridge"].suggestions)
        if args.json:
            args.json.write_text(json.dumps(figures(run), indent=1) + "\n")
            print(f"\nFigures written to {args.json}")
    finally:
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
