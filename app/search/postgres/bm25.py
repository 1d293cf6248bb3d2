"""A query's nodes as SQL over the postings (`search_posting`, migration 0019), scored with BM25F.

Each word of the query (a lexeme as PostgreSQL's `english` configuration makes it, or a prefix*)
is a key: one range of the postings' primary key. Every key's rows are read in one statement and
summed per asset by a hash aggregate (`agg`), giving the word's occurrences under each weight
(title A, tags/product/kind/taxonomy B, description C, messaging and file text D). Per asset, a
word under the weights its field allows (`Word.field`) becomes a term frequency (a `t<n>` column),

    tf = Σ_w W_w · n_w / (1 − B + B · length_w / average length_w)

each weight normalised by the asset's own length under it, and a part scores as the Whoosh
backend's BM25F does: weight · idf · tf · (K1 + 1) / (tf + K1), idf = ln(N / (df + 1)) + 1 with
df the assets holding the word under those weights. A phrase matches where each of its words does
and the row's vector holds them in order (the vector is read for those rows only); a phrase of
neighbouring words searched in every field, where its pairs are held (`search_pair`, migration
0020; two words: no vector read at all), and when every match must hold its pairs, only their
assets' postings are read. It scores its words' scores added, as Whoosh's phrase does. An exact
tag matches on the row's tags and scores its words under B. Groups combine their parts (AND; OR;
at least k of n, scores added; the best part's score for a synonym group); NOT negates. When
every match must hold one of the keys (`narrow`), only assets in `agg` are looked at; otherwise
every row, `agg` joined to it.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from app.search.backend import Group, Node, Not, Phrase, Query, Word
from app.search.postgres.tsquery import phrase

K1 = 1.2
B = 0.75
# A word in the title counts three times one in the body; tags, product, kind and taxonomy twice
# (the Whoosh backend's field weights; the description is body text there).
WEIGHTS = {"a": 3.0, "b": 2.0, "c": 1.0, "d": 1.0}
FIELD_WEIGHTS = {None: "abcd", "title": "a", "keywords": "b", "taxonomy": "b", "body": "cd"}
LABELS = {"abcd": "", "a": "A", "b": "B", "cd": "CD"}  # the same weights as tsquery labels
TAG_SCORE = 1.0  # a tag prefix's score (no word to weigh)

Lexemes = Mapping[str, list[tuple[str, int]]]  # text → its lexemes with positions, in order


@dataclass(frozen=True)
class Key:
    """One range of the postings: a lexeme, or every lexeme starting with `text` (prefix); or of
    the pairs (`search_pair`, migration 0020): two neighbouring lexemes, "first second"."""

    text: str
    prefix: bool = False
    pair: bool = False


@dataclass
class Term:
    """A key under some weights (`weights`, of "abcd"): one tf column per asset, one idf."""

    key: Key
    weights: str
    column: str
    idf_param: str


@dataclass
class Part:
    match: str  # SQL boolean over the row's columns
    score: str  # SQL number, 0 where the part does not match
    narrow: bool  # every row it matches holds one of its keys
    pairs: frozenset[Key] = frozenset()  # pairs every row it matches holds


@dataclass
class Compiled:
    """The SQL pieces of one query, with its parameters; `keys` and `terms` say what `agg` reads."""

    keys: dict[Key, int] = field(default_factory=dict)
    presence: dict[Key, None] = field(default_factory=dict)  # pair keys: a q<n> column each (held or not)
    terms: dict[tuple[Key, str], Term] = field(default_factory=dict)
    columns: list[tuple[str, str]] = field(default_factory=list)  # (SQL over t<n>, tags and the vector v, m<n>)
    params: dict[str, object] = field(default_factory=dict)
    highlight: list[str] = field(default_factory=list)  # lexemes looked for
    match: str = "TRUE"
    score: str = "0"
    narrow: bool = False
    pairs_held: frozenset[Key] = frozenset()  # pairs every match holds: `agg` reads only their assets
    scored: bool = False  # False: nothing searchable (every asset matches, newest first)
    factor: str = "1"  # coverage
    pairs: list[tuple[str, str]] = field(default_factory=list)  # (base score over t<n>, tsquery param) per pair
    pair_weight: float = 0.0


def saturated(column: str) -> str:
    return f"({column} * {float(K1 + 1)!r}::float8 / ({column} + {float(K1)!r}::float8))"


class Compiler:
    """Compiles a `Query` (see the module's docstring); `lexemes` are the analysed texts of the query."""

    def __init__(self, lexemes: Lexemes):
        self.lexemes = lexemes
        self.out = Compiled()
        self.memo: dict[Node, Part | None] = {}

    def param(self, value: object) -> str:
        name = f"p{len(self.out.params)}"
        self.out.params[name] = value
        return f":{name}"

    def column(self, sql: str) -> str:
        name = f"m{len(self.out.columns)}"
        self.out.columns.append((sql, name))
        return name

    def query(self, query: Query) -> Compiled:
        top = self.part(query.match) if query.match is not None else None
        if top is None:
            return self.out
        slots = [p for p in (self.part(s) for s in query.slots) if p is not None] if query.coverage else []
        if slots:
            matched = " + ".join(f"({s.match})::int" for s in slots)
            self.out.factor = f"power(({matched})::float8 / {len(slots)}, {query.coverage})"
        self.out.match, self.out.score, self.out.narrow, self.out.scored = top.match, top.score, top.narrow, True
        self.out.pairs_held = top.pairs
        if query.pair_weight:
            for pair in query.pairs:
                found = self.lexemes.get(pair.text, [])
                if len(found) > 1:
                    label = FIELD_WEIGHTS.get(pair.field, "abcd")
                    words = [self.term(Key(lexeme), label, pair.weight) for lexeme, _ in found]
                    base = f"CASE WHEN {' AND '.join(f'{t} > 0' for t, _ in words)} THEN " \
                           f"{' + '.join(score for _, score in words)} ELSE 0 END"
                    self.out.pairs.append((base, self.param(phrase(found, LABELS[label], pair.slop))[1:]))
            self.out.pair_weight = query.pair_weight
        return self.out

    def term(self, key: Key, weights: str, weight: float) -> tuple[str, str]:
        """(tf column, score SQL) of a key under `weights`."""
        self.out.keys.setdefault(key, len(self.out.keys))
        term = self.out.terms.get((key, weights))
        if term is None:
            term = Term(key, weights, f"t{len(self.out.terms)}", self.param(1.0)[1:])
            self.out.terms[key, weights] = term
        return term.column, f"{weight} * :{term.idf_param} * {saturated(term.column)}"

    def part(self, node: Node) -> Part | None:
        if node not in self.memo:
            self.memo[node] = self._part(node)
        return self.memo[node]

    def _part(self, node: Node) -> Part | None:
        if isinstance(node, Group):
            return self._group(node)
        if isinstance(node, Not):
            inner = self.part(node.part)
            return Part("TRUE" if inner is None else f"NOT ({inner.match})", "0", False)
        if isinstance(node, Word) and node.field == "tags":
            return self._tag(node)
        weights = FIELD_WEIGHTS.get(node.field, "abcd")
        if isinstance(node, Word) and node.prefix:
            prefix = node.text.casefold()
            self.out.highlight.append(prefix)
            column, score = self.term(Key(prefix, prefix=True), weights, node.weight)
            return Part(f"{column} > 0", f"CASE WHEN {column} > 0 THEN {score} ELSE 0 END", True)
        found = self.lexemes.get(node.text, [])
        if not found:
            return None
        self.out.highlight += [lexeme for lexeme, _ in found]
        words = [self.term(Key(lexeme), weights, node.weight) for lexeme, _ in found]
        held = " AND ".join(f"{column} > 0" for column, _ in words)
        score = " + ".join(score for _, score in words)
        if len(found) == 1:
            return Part(held, f"CASE WHEN {held} THEN {score} ELSE 0 END", True)
        slop = node.slop if isinstance(node, Phrase) else 1
        pairs = self.pairs(found) if slop <= 1 and weights == "abcd" else {}
        if pairs:  # held where its pairs are; more than one pair: and in that order, as the vector says
            held = " AND ".join(pairs)
            if len(pairs) == 1:
                return Part(held, f"CASE WHEN {held} THEN {score} ELSE 0 END", True, frozenset(pairs.values()))
        query = self.param(phrase(found, LABELS[weights], slop))
        column = self.column(f"CASE WHEN {held} THEN v @@ CAST({query} AS tsquery) ELSE false END")
        return Part(column, f"CASE WHEN {column} THEN {score} ELSE 0 END", True, frozenset(pairs.values()))

    def pairs(self, found: list[tuple[str, int]]) -> dict[str, Key]:
        """The presence columns of a phrase's neighbouring pairs with their keys, when its words
        are all neighbours (a stop word between two leaves a gap no pair records): none otherwise."""
        if any(b - a != 1 for (_, a), (_, b) in zip(found, found[1:], strict=False)):
            return {}
        columns = {}
        for (first, _), (second, _) in zip(found, found[1:], strict=False):
            key = Key(f"{first} {second}", pair=True)
            self.out.keys.setdefault(key, len(self.out.keys))
            self.out.presence[key] = None
            columns[f"q{self.out.keys[key]}"] = key
        return columns

    def _tag(self, node: Word) -> Part:
        tag = node.text.casefold()
        if node.prefix:
            pattern = tag.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            column = self.column(f"EXISTS (SELECT 1 FROM unnest(tags) t WHERE t LIKE {self.param(pattern)})")
            return Part(column, f"CASE WHEN {column} THEN {TAG_SCORE * node.weight} ELSE 0 END", False)
        found = self.lexemes.get(node.text, [])
        self.out.highlight += [lexeme for lexeme, _ in found]
        column = self.column(f"tags @> ARRAY[CAST({self.param(tag)} AS text)]")
        if not found:  # a tag of stop words only: matched, not scored
            return Part(column, "0", False)
        score = " + ".join(score for _, score in (self.term(Key(lexeme), "b", node.weight) for lexeme, _ in found))
        return Part(column, f"CASE WHEN {column} THEN {score} ELSE 0 END", True)

    def _group(self, node: Group) -> Part | None:
        parts = [p for p in (self.part(n) for n in node.parts) if p is not None]
        if not parts:
            return None
        minimum = len(parts) if node.minimum >= len(node.parts) else min(node.minimum, len(parts))
        if minimum == 0:
            match, narrow = "TRUE", False
        elif minimum >= len(parts):
            match, narrow = " AND ".join(f"({p.match})" for p in parts), any(p.narrow for p in parts)
        else:
            match = (" OR ".join(f"({p.match})" for p in parts) if minimum == 1 else
                     f"({' + '.join(f'({p.match})::int' for p in parts)}) >= {minimum}")
            narrow = all(p.narrow for p in parts)
        pairs = frozenset().union(*(p.pairs for p in parts)) if minimum >= len(parts) else frozenset()
        if len(parts) == 1:
            return Part(match, parts[0].score, narrow, pairs)
        combined = f"GREATEST({', '.join(p.score for p in parts)})" if node.best else " + ".join(
            f"({p.score})" for p in parts)
        return Part(match, f"CASE WHEN {match} THEN {combined} ELSE 0 END", narrow, pairs)


def key_condition(key: Key, params: dict, n: int) -> str:
    """SQL on `search_posting` selecting one key's rows (a prefix: one range of the primary key,
    the lexeme column being in byte order)."""
    if key.prefix:
        params[f"lo{n}"], params[f"hi{n}"] = key.text, key.text + "\U0010ffff"
        return f"lexeme >= :lo{n} AND lexeme < :hi{n}"
    params[f"lo{n}"] = key.text
    return f"lexeme = :lo{n}"


def weights_condition(weights: str) -> str:
    return "TRUE" if weights == "abcd" else " OR ".join(f"{w} > 0" for w in weights)


def aggregate_sql(compiled: Compiled, params: dict) -> str:
    """`agg`: per asset holding any key, each key's occurrences under each weight its terms use."""
    needed: dict[Key, set[str]] = {key: {"a"} for key in compiled.presence}
    for (key, weights) in compiled.terms:
        needed.setdefault(key, set()).update(weights)
    if len(compiled.keys) == 1 and not next(iter(compiled.keys)).prefix:  # one lexeme: one row per asset
        (key, n), = compiled.keys.items()
        return (f"SELECT asset_id, {', '.join(f'{w}::float8 AS k{n}{w}' for w in sorted(needed[key]))} "
                f"FROM search_posting WHERE {key_condition(key, params, n)}")
    branches, sums = [], []
    # Every match holds these pairs: the words' postings of other assets are not read.
    among = "".join(f" AND asset_id IN (SELECT asset_id FROM search_pair WHERE pair = :lo{compiled.keys[key]})"
                    for key in sorted(compiled.pairs_held, key=compiled.keys.__getitem__))
    for key, n in compiled.keys.items():
        if key.pair:
            params[f"lo{n}"] = key.text
            branches.append(f"SELECT {n} AS k, asset_id, 1::smallint, 0::smallint, 0::smallint, 0::smallint "
                            f"FROM search_pair WHERE pair = :lo{n}")
        else:
            branches.append(f"SELECT {n} AS k, asset_id, a, b, c, d FROM search_posting "
                            f"WHERE {key_condition(key, params, n)}{among}")
        sums += [f"(sum({w}) FILTER (WHERE k = {n}))::float8 AS k{n}{w}" for w in sorted(needed[key])]
    return (f"SELECT asset_id, {', '.join(sums)} FROM ({' UNION ALL '.join(branches)}) p "
            f"GROUP BY asset_id")


def tf_columns(compiled: Compiled, averages: Mapping[str, float]) -> str:
    """The `t<n>` columns over `agg` and the row's lengths per weight (0 where the asset lacks the key)."""
    columns = []
    for (key, weights), term in compiled.terms.items():
        n = compiled.keys[key]
        parts = [f"{float(WEIGHTS[w])!r}::float8 * coalesce(k{n}{w}, 0) / "
                 f"({float(1 - B)!r}::float8 + {float(B) / (averages[w] or 1.0)!r}::float8 * d.size_{w})"
                 for w in weights]  # float8 throughout: numeric arithmetic was most of a broad query's time
        columns.append(f", ({' + '.join(parts)}) AS {term.column}")
    columns += [f", coalesce(k{compiled.keys[key]}a, 0) > 0 AS q{compiled.keys[key]}" for key in compiled.presence]
    return "".join(columns)


def idf(documents: int, frequency: int) -> float:
    """BM25's idf, as the Whoosh backend computes it."""
    return math.log(max(documents, 1) / (frequency + 1)) + 1
