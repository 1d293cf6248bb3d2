"""tsquery text for the PostgreSQL backend: lexemes as operands and phrases with their distances
(what reads a vector: a phrase's check, completions; the words are scored from the postings in
`bm25.py`).

A phrase's lexemes are as PostgreSQL's `english` configuration makes them, a field a weight label
(title is A); its words `<n>` apart as typed, a slop as the alternatives it allows.
"""
from __future__ import annotations

import itertools

from app.search.backend import Group, Node, Not, Phrase, Word

# ts_rank's weights of D (messaging, file text), C (description), B (tags, product, kind,
# taxonomy) and A (title): 1 : 1 : 2 : 3, the Whoosh backend's field weights (completions).
WEIGHTS = "{0.2, 0.2, 0.4, 0.6}"
MAX_SLOP_ALTERNATIVES = 27  # a longer sloppy phrase is matched as its words in any order


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
