"""Reading what was typed into the search box: words, "quoted phrases" (with ~N for words N apart),
field:value (title:, tag:), prefix*, AND / OR / NOT (in capitals) and parentheses.

Nothing here knows a backend: the result is a list of items in typed order, each a plain word, a
`backend.Node` that must match as written (a phrase, a field, a prefix), or, when operators or
parentheses were used, one tree to evaluate exactly as written. Malformed syntax (an unclosed
quote or parenthesis, an operator with nothing to apply to) is repaired, never refused.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from app.search.backend import Node, Not, Phrase, Word, all_of, any_of

FIELDS = {"title": "title", "tag": "tags", "tags": "tags"}
OPERATORS = ("AND", "OR", "NOT")
MAX_SLOP = 8
_TOKEN = re.compile(r'''
    (?P<open>\()|(?P<close>\))
  | (?P<field>[A-Za-z]+):(?=\S)
  | "(?P<phrase>[^"]*)("(?:~(?P<slop>\d+))?|$)
  | (?P<word>[^\s()"]+)
''', re.VERBOSE)
_WORD_CHARS = re.compile(r"\w(?:[\w'’.\-&+]*\w)?")


@dataclass
class Typed:
    """A query as typed: items in order (plain words as str, anything else as a Node), or `tree`."""

    items: list[str | Node] = field(default_factory=list)
    tree: Node | None = None  # set when AND, OR, NOT or parentheses were used
    repaired: bool = False  # some syntax could not be read as written

    @property
    def explicit(self) -> bool:
        return self.tree is not None

    @property
    def words(self) -> list[str]:
        return [i for i in self.items if isinstance(i, str)]


def cut(text: str, max_chars: int) -> str:
    """At most `max_chars`, cut at the last whole word (a pasted email keeps its last full word)."""
    text = re.sub(r"[\x00-\x1f\x7f]", " ", text or "").strip()
    if len(text) <= max_chars:
        return text
    head = text[:max_chars + 1]
    return head[:head.rfind(" ")].rstrip() if " " in head else text[:max_chars]


def words_in(text: str) -> list[str]:
    """The words of a piece of text, punctuation dropped, hyphens and apostrophes inside a word kept."""
    return _WORD_CHARS.findall(text)


class _Reader:
    """A small recursive-descent reader over the tokens (OR binds loosest, then AND, then NOT)."""

    def __init__(self, text: str):
        self.tokens: list[tuple[str, str, str | None]] = []
        self.repaired = False
        for m in _TOKEN.finditer(text):
            if m.group("phrase") is not None:
                if len(m.group(0)) < 2 or not (m.group(0).endswith('"') or m.group("slop")):
                    self.repaired = True  # an unclosed quote: the rest is the phrase
                self.tokens.append(("phrase", m.group("phrase"), m.group("slop")))
            else:
                self.tokens.append((m.lastgroup, m.group(m.lastgroup), None))
        self.at = 0
        self.operators = False

    def peek(self) -> tuple[str, str, str | None] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self):
        token = self.peek()
        self.at += 1
        return token

    def is_operator(self, token, name: str | None = None) -> bool:
        return token is not None and token[0] == "word" and token[1] in OPERATORS and name in (None, token[1])

    def expression(self) -> list[str | Node]:
        """Top level: items in typed order; operators turn the whole query into one tree."""
        items = []
        while self.peek() is not None:
            token = self.peek()
            if token[0] == "close":
                self.take()
                self.repaired = True
                continue
            items.append(self.disjunction())
        return items

    def disjunction(self):
        parts = [self.conjunction()]
        while self.is_operator(self.peek(), "OR"):
            self.take()
            self.operators = True
            if self.peek() is None or self.peek()[0] == "close":
                self.repaired = True
                break
            parts.append(self.conjunction())
        parts = [p for p in parts if p is not None]
        if len(parts) > 1:
            return ("or", parts)
        return parts[0] if parts else None

    def conjunction(self):
        parts = [self.unary()]
        while self.is_operator(self.peek(), "AND"):
            self.take()
            self.operators = True
            if self.peek() is None or self.peek()[0] == "close":
                self.repaired = True
                break
            parts.append(self.unary())
        parts = [p for p in parts if p is not None]
        if len(parts) > 1:
            return ("and", parts)
        return parts[0] if parts else None

    def unary(self):
        token = self.peek()
        if self.is_operator(token, "NOT"):
            self.take()
            self.operators = True
            inner = self.unary() if self.peek() is not None and self.peek()[0] != "close" else None
            if inner is None:
                self.repaired = True
                return None
            return ("not", inner)
        return self.atom()

    def atom(self):
        kind, value, slop = self.take()
        if kind == "open":
            self.operators = True
            inner = []
            while self.peek() is not None and self.peek()[0] != "close":
                inner.append(self.disjunction())
            if self.peek() is None:
                self.repaired = True
            else:
                self.take()
            inner = [i for i in inner if i is not None]
            return ("and", inner) if len(inner) > 1 else (inner[0] if inner else None)
        if kind == "close":
            self.repaired = True
            return None
        if self.is_operator((kind, value, slop)):
            self.repaired = True  # AND or OR with nothing before it
            return None
        if kind == "field":
            return self.fielded(value)
        if kind == "phrase":
            return _phrase(value, None, slop)
        return _word(value, None)

    def fielded(self, name: str):
        target = FIELDS.get(name.lower())
        token = self.peek()
        if target is None:  # not a field Bridge knows: the name is a word like any other
            return _word(name, None)
        if token is None or token[0] in ("close",) or self.is_operator(token):
            self.repaired = True
            return None
        kind, value, slop = self.take()
        if kind == "phrase":
            return _phrase(value, target, slop)
        if kind == "word":
            return _word(value, target)
        if kind == "open":  # title:(a b): each word in that field
            inner = []
            while self.peek() is not None and self.peek()[0] != "close":
                kind, value, slop = self.take()
                if kind in ("word", "phrase"):
                    inner.append(_phrase(value, target, slop) if kind == "phrase" else _word(value, target))
            if self.peek() is None:
                self.repaired = True
            else:
                self.take()
            inner = [i for i in inner if i is not None]
            return ("and", inner) if len(inner) > 1 else (inner[0] if inner else None)
        self.repaired = True
        return None


def _word(raw: str, field_name: str | None) -> str | Node | None:
    """A plain word (str), or a Word node for a field or a prefix; None when nothing is searchable."""
    prefix = raw.endswith("*") and len(raw.rstrip("*")) > 0
    found = words_in(raw)
    if not found:
        return None
    if field_name == "tags":
        return Word(" ".join(found).lower(), "tags", prefix)
    if prefix and len(found) == 1:
        return Word(found[0].lower(), field_name, True)
    if field_name is None and len(found) == 1:
        return found[0]
    text = " ".join(found)
    return Word(text, field_name) if len(found) == 1 else Phrase(text, field_name)


def _phrase(raw: str, field_name: str | None, slop: str | None) -> Node | None:
    found = words_in(raw)
    if not found:
        return None
    if field_name == "tags":
        return Word(" ".join(found).lower(), "tags")
    slop_n = min(MAX_SLOP, max(1, int(slop))) if slop else 1
    return Phrase(" ".join(found), field_name, slop_n) if len(found) > 1 else Word(found[0], field_name)


def _node(item) -> Node | None:
    """An item of the reader's tree as a backend node (plain words become Words)."""
    if item is None:
        return None
    if isinstance(item, str):
        return Word(item)
    if isinstance(item, tuple):
        op, value = item
        if op == "not":
            inner = _node(value)
            return Not(inner) if inner is not None else None
        parts = [n for n in (_node(v) for v in value) if n is not None]
        if not parts:
            return None
        return all_of(parts) if op == "and" else any_of(parts)
    return item


def read(text: str) -> Typed:
    """What a query says (see the module's docstring)."""
    reader = _Reader(text)
    items = [i for i in reader.expression() if i is not None]
    if reader.operators:
        parts = [n for n in (_node(i) for i in items) if n is not None]
        return Typed(items=[], tree=all_of(parts) if parts else None, repaired=reader.repaired)
    return Typed(items=[i if isinstance(i, str) else _node(i) for i in items], repaired=reader.repaired)
