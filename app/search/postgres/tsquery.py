"""A query's nodes as SQL over `search_document`: the one place that writes tsquery.

Each word or phrase becomes a `tsquery` (its lexemes as PostgreSQL's `english` configuration
makes them, a field as a weight label: title is A; a phrase's words `<n>` apart as typed, a slop
as the alternatives it allows; prefix* as `:*`), matched once per row into a boolean column
(`m0`, `m1` …) and scored, where it matches, as

    weight × idf × ts_rank_cd(WEIGHTS, vector, query, NORMALIZATION)

idf as the Whoosh backend's BM25 has it (log(N / (df + 1)) + 1, from the document frequency of
the query over `search_document`): `ts_rank_cd` alone knows nothing of how rare a word is.
Groups combine their parts' columns (AND, OR, at least k of n with the parts' scores added, or
the best part's for a synonym group); NOT negates. A node also gives a tsquery every match must
satisfy, when it has one, for the GIN index to narrow the rows before the columns are computed.
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from app.search.backend import Group, Node, Not, Phrase, Query, Word

# ts_rank_cd's weights of D (messaging, file text), C (description), B (tags, product, kind,
# taxonomy) and A (title): 1 : 1 : 2 : 3, the Whoosh backend's field weights.
WEIGHTS = "{0.2, 0.2, 0.4, 0.6}"
RANK = "ts_rank"
# Longer documents say less about each word: the whole score is divided by 1 + ln(words in the
# document), ts_rank's normalisation 1, from the row's stored `size` (ts_rank would count the
# vector's positions again for every word of the query).
NORMALIZATION = 0
LENGTH_NORM = "(1 + ln(greatest(size, 1)))"
TAG_RANK = 0.4  # a tag prefix's score (one B-weighted occurrence, about)
LABELS = {None: "", "title": "A", "keywords": "B", "taxonomy": "B", "body": "CD"}
MAX_SLOP_ALTERNATIVES = 27  # a longer sloppy phrase is matched as its words in any order

Lexemes = Mapping[str, list[tuple[str, int]]]  # text → its lexemes with positions, in order


def rank(vector: str, query: str) -> str:
    """SQL ranking one tsquery in one row's vector."""
    return f"{RANK}('{WEIGHTS}', {vector}, {query}, {NORMALIZATION})"


def quoted(lexeme: str) -> str:
    """A lexeme as a tsquery operand."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def texts_of(node: Node | None, into: set[str] | None = None) -> set[str]:
    """Every word and phrase text the node looks for (what must be analysed first)."""
    into = set() if into is None else into
    if isinstance(node, Group):
        for part in node.parts:
            texts_of(part, into)
    elif isinstance(node, Not):
        texts_of(node.part, into)
    elif isinstance(node, (Word, Phrase)) and not (isinstance(node, Word) and node.prefix and node.field != "tags"):
        into.add(node.text)
    return into


@dataclass
class Leaf:
    """One tsquery the row is matched against; its idf is filled in once document frequencies are known."""

    column: str
    tsquery: str
    weight: float
    idf_param: str


@dataclass
class Part:
    match: str  # SQL boolean over the row's columns
    score: str  # SQL number, 0 where the part does not match
    narrow: str | None  # a tsquery every match satisfies (None: none to give)
    implied: frozenset[str] = frozenset()  # columns true in every row `narrow` lets through


@dataclass
class Compiled:
    """The SQL pieces of one query, with its parameters."""

    columns: list[tuple[str, str]] = field(default_factory=list)  # (SQL over the vector v and tags, name m<n>)
    params: dict[str, object] = field(default_factory=dict)
    leaves: list[Leaf] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)  # lexemes looked for, to highlight
    match: str = "TRUE"
    score: str = "0"
    narrow: str | None = None
    scored: bool = False  # False: nothing searchable (every asset matches, newest first)
    factor: str = "1"  # what the score is multiplied by: coverage, and 1 / (1 + ln length)
    pair_columns: list[tuple[str, str]] = field(default_factory=list)  # the pairs' columns, over v
    pair_score: str = "0"  # added to the score of the best PAIR_DEPTH rows


class Compiler:
    """Compiles a `Query` (see the module's docstring); `lexemes` are the analysed texts of the query."""

    def __init__(self, lexemes: Lexemes):
        self.lexemes = lexemes
        self.out = Compiled()
        self.memo: dict[Node, Part | None] = {}
        self.prefix = "m"
        self.columns = 0

    def column(self) -> str:
        """A new column's name: m<n> for the query's words, q<n> for the pairs."""
        self.columns += 1
        return f"{self.prefix}{self.columns}"

    def param(self, value: object) -> str:
        name = f"p{len(self.out.params)}"
        self.out.params[name] = value
        return f":{name}"

    def query(self, query: Query) -> Compiled:
        top = self.part(query.match) if query.match is not None else None
        if top is None:
            return self.out
        factor = "1"
        slots = [p for p in (self.part(s) for s in query.slots) if p is not None] if query.coverage else []
        if slots:
            matched = " + ".join(f"({s.match})::int" for s in slots)
            factor = f"power(({matched})::float8 / {len(slots)}, {query.coverage})"
        self.out.match, self.out.narrow, self.out.scored = top.match, top.narrow, True
        # The rows are narrowed by `narrow` first: the words every match must hold need no second look.
        self.out.columns = [("TRUE" if name in top.implied else sql, name) for sql, name in self.out.columns]
        self.out.score, self.out.factor = top.score, f"{factor} / {LENGTH_NORM}"
        if query.pair_weight and query.pairs:
            self._pairs(query)
        return self.out

    def _pairs(self, query: Query) -> None:
        """The neighbouring-word pairs, as columns and a score of their own (`q<n>`): read only for
        the best PAIR_DEPTH rows by the rest of the score (a phrase is the dearest thing to check)."""
        main, self.out.columns, self.memo, self.prefix = self.out.columns, [], {}, "q"
        parts = [p for p in (self.part(pair) for pair in query.pairs) if p is not None]
        self.out.pair_columns, self.out.columns = self.out.columns, main
        if parts:
            self.out.pair_score = f"{query.pair_weight} * ({' + '.join(f'({p.score})' for p in parts)})"

    def part(self, node: Node) -> Part | None:
        if node not in self.memo:
            self.memo[node] = self._part(node)
        return self.memo[node]

    def _part(self, node: Node) -> Part | None:
        if isinstance(node, Group):
            return self._group(node)
        if isinstance(node, Not):
            inner = self.part(node.part)
            return Part("TRUE" if inner is None else f"NOT ({inner.match})", "0", None)
        if isinstance(node, Word) and node.field == "tags":
            return self._tag(node)
        label = LABELS.get(node.field, "")
        if isinstance(node, Word) and node.prefix:
            prefix = node.text.casefold()
            self.out.terms.append(prefix)
            return self._leaf(f"{quoted(prefix)}:*{label}", node.weight)
        found = self.lexemes.get(node.text, [])
        if not found:
            return None
        self.out.terms += [lexeme for lexeme, _ in found]
        slop = node.slop if isinstance(node, Phrase) else 1
        return self._leaf(phrase(found, label, slop), node.weight)

    def _leaf(self, tsquery: str, weight: float, match: str | None = None) -> Part:
        column = self.column()
        q = f"CAST({self.param(tsquery)} AS tsquery)"
        self.out.columns.append((match or f"v @@ {q}", column))
        idf = self.param(1.0)
        self.out.leaves.append(Leaf(column, tsquery, weight, idf[1:]))
        score = f"CASE WHEN {column} THEN {idf} * {weight} * {rank('v', q)} ELSE 0 END"
        if match is None:
            return Part(column, score, tsquery, frozenset({column}))
        return Part(column, score, None)

    def _tag(self, node: Word) -> Part:
        tag = node.text.casefold()
        self.out.terms += [lexeme for lexeme, _ in self.lexemes.get(node.text, [])]
        if node.prefix:
            pattern = tag.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            column = self.column()
            self.out.columns.append((f"EXISTS (SELECT 1 FROM unnest(tags) t WHERE t LIKE {self.param(pattern)})",
                                     column))
            return Part(column, f"CASE WHEN {column} THEN {TAG_RANK * node.weight} ELSE 0 END", None)
        found = self.lexemes.get(node.text, [])
        match = f"tags @> ARRAY[CAST({self.param(tag)} AS text)]"
        if not found:  # a tag of stop words only: matched, not scored
            column = self.column()
            self.out.columns.append((match, column))
            return Part(column, "0", None)
        return self._leaf(phrase(found, "B", 1), node.weight, match)

    def _group(self, node: Group) -> Part | None:
        parts = [p for p in (self.part(n) for n in node.parts) if p is not None]
        if not parts:
            return None
        minimum = len(parts) if node.minimum >= len(node.parts) else min(node.minimum, len(parts))
        narrows = [p.narrow for p in parts]
        implied: frozenset[str] = frozenset()
        if minimum == 0:
            match, narrow = "TRUE", None
        elif minimum >= len(parts):
            match = " AND ".join(f"({p.match})" for p in parts)
            given = [n for n in narrows if n]
            narrow = " & ".join(f"({n})" for n in given) if given else None
            implied = frozenset().union(*(p.implied for p in parts))
        else:
            match = (" OR ".join(f"({p.match})" for p in parts) if minimum == 1 else
                     f"({' + '.join(f'({p.match})::int' for p in parts)}) >= {minimum}")
            narrow = " | ".join(f"({n})" for n in narrows) if all(narrows) else None
        if len(parts) == 1:
            return Part(match, parts[0].score, narrow, implied if minimum else frozenset())
        combined = f"GREATEST({', '.join(p.score for p in parts)})" if node.best else " + ".join(
            f"({p.score})" for p in parts)
        return Part(match, f"CASE WHEN {match} THEN {combined} ELSE 0 END", narrow, implied)


def phrase(found: list[tuple[str, int]], label: str, slop: int) -> str:
    """Lexemes as a tsquery: one, or a phrase keeping the typed distances (stop words leave gaps),
    each gap up to `slop - 1` wider."""
    operand = [f"{quoted(lexeme)}{':' + label if label else ''}" for lexeme, _ in found]
    if len(operand) == 1:
        return operand[0]
    gaps = [max(1, b - a) for (_, a), (_, b) in itertools.pairwise(found)]
    if slop <= 1:
        choices = [gaps]
    elif slop ** len(gaps) <= MAX_SLOP_ALTERNATIVES:
        choices = [list(c) for c in itertools.product(*[range(g, g + slop) for g in gaps])]
    else:
        return " & ".join(operand)
    return " | ".join("(" + operand[0] + "".join(f" <{g}> {o}" for g, o in zip(c, operand[1:], strict=True)) + ")"
                      for c in choices)


def idf(documents: int, frequency: int) -> float:
    """BM25's idf, as the Whoosh backend computes it."""
    return math.log(max(documents, 1) / (frequency + 1)) + 1


def fill_idf(compiled: Compiled, documents: int, frequency: Callable[[str], int]) -> None:
    for leaf in compiled.leaves:
        compiled.params[leaf.idf_param] = idf(documents, frequency(leaf.tsquery))
