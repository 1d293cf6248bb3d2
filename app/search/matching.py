"""How a query's words must match, above any backend: the minimum-should-match rule, relaxing a
query that finds nothing, synonyms, and the parts that rank a document higher (coverage, pairs).

- Stop words ("how", "do", "the", "we", "need", …: STOP_WORDS) are left out, unless nothing else
  was typed. Quoted phrases, field:value and prefix* must always match, as typed.
- The other words must match by the rule of `minimum_should_match`: all of 1–3 words, all but
  one of 4–5, 60 % (rounded up) of 6 or more. When that finds fewer than TOP_UP assets, the
  query is relaxed (`Plan.relaxed`: any one of its words; with a phrase or field, those alone)
  and what the relaxed form adds comes after the strict matches: a sentence never dead-ends,
  and the page says "no results" only when no word matches.
- A word (or words) in a synonym group matches any member of the group (a member of several
  words as a phrase); matches through a synonym weigh SYNONYM_WEIGHT of the word typed.
- Documents holding more of the query's words rank first: the text score is multiplied by
  (words matched / words) ** COVERAGE, and neighbouring words found side by side add
  PAIR_WEIGHT times their score ("total cost of ownership" typed without quotes).
- A query using AND, OR, NOT or parentheses is evaluated exactly as written (synonyms apply to
  its single words), never relaxed.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from app.search.backend import Group, Node, Not, Phrase, Word, all_of, any_of
from app.search.syntax import Typed

MAX_QUERY_CHARS = 500  # a pasted email is cut at the last whole word before this
MAX_WORDS = 16  # words (or synonym groups) looked for; the rest of a long query is left out
COVERAGE = 1.0
PAIR_WEIGHT = 0.5
SYNONYM_WEIGHT = 0.8
MAX_SYNONYM_WORDS = 4  # the longest synonym looked for, in words
TOP_UP = 5  # fewer strict matches than this: relaxed matches follow them

STOP_WORDS = frozenset("""
a about above after again against all also am an and any anything are as at be because been before being
below between both but by can could did do does doing don't down during each either else ever every few
find for from further get got had has have having he her here hers herself hi hello him himself his how
i i'm if in into is isn't it it's its itself just let let's like looking me more most my myself need
needs no nor not of off on once only or other our ours ourselves out over own please same she should
show so some someone something such than thank thanks that that's the their theirs them themselves then
there these they this those through to too under until up us very want wants was we we're were what
what's when where which while who whom why will with would yet you you're your yours yourself
""".split())


def minimum_should_match(count: int) -> int:
    """How many of `count` words (stop words left out) a document must hold."""
    if count <= 3:
        return count
    if count <= 5:
        return count - 1
    return math.ceil(0.6 * count)


def pieces(text: str) -> tuple[str, ...]:
    """Lower-case letters and digits runs: how synonyms are compared ("Mid-Market" = "mid market")."""
    return tuple(re.findall(r"[^\W_]+", text.casefold()))


def singular(piece: str) -> str:
    """A plural's singular, roughly (hospitals → hospital, companies → company); else the word."""
    if len(piece) > 4 and piece.endswith("ies"):
        return piece[:-3] + "y"
    if len(piece) > 3 and piece.endswith("s") and not piece.endswith("ss"):
        return piece[:-1]
    return piece


Synonyms = Mapping[tuple[str, ...], Sequence[str]]  # pieces of a word or phrase → the other members


def synonyms_of(words: Sequence[str], synonyms: Synonyms) -> tuple[int, Sequence[str]]:
    """The longest run of `words` (from the first) that is in a synonym group: (its length, the
    group's other members); (0, ()) when none is."""
    for length in range(min(MAX_SYNONYM_WORDS, len(words)), 0, -1):
        key = tuple(p for w in words[:length] for p in pieces(w))
        if not key:
            continue
        found = synonyms.get(key) or synonyms.get((*key[:-1], singular(key[-1])))
        if found:
            return length, found
    return 0, ()


def _alternative(member: str) -> Node:
    return (Word(member, weight=SYNONYM_WEIGHT) if len(pieces(member)) == 1
            else Phrase(member, weight=SYNONYM_WEIGHT))


@dataclass(frozen=True)
class Plan:
    """What a query asks of a backend: `strict` by the minimum-should-match rule, `relaxed` (any one
    word; the required parts alone) to add when the strict form finds little (None: nothing to relax)."""

    strict: Node | None
    relaxed: Node | None
    slots: tuple[Node, ...] = ()
    pairs: tuple[Phrase, ...] = ()
    words: tuple[str, ...] = ()  # the plain words as typed (what spelling may correct)

    @property
    def coverage(self) -> float:
        return COVERAGE if self.slots else 0.0

    @property
    def pair_weight(self) -> float:
        return PAIR_WEIGHT if self.pairs else 0.0


def plan(typed: Typed, synonyms: Synonyms) -> Plan:
    """The plan for a query as read by `syntax.read`."""
    if typed.explicit:
        tree = _with_synonyms(typed.tree, synonyms)
        return Plan(tree, None)
    required = [i for i in typed.items if not isinstance(i, str)]
    slots, pairs = _slots_and_pairs(typed.words, synonyms)
    slots = slots[:MAX_WORDS]
    if not slots and not required:
        return Plan(None, None, words=tuple(typed.words))
    minimum = minimum_should_match(len(slots))
    strict = all_of([*required, *([_group(slots, minimum)] if slots else [])])
    if required and slots:  # the phrases, fields and prefixes must match; the words add to the score
        relaxed = all_of([*required, Group(tuple(slots), 0)])
    else:
        relaxed = _group(slots, 1) if minimum > 1 else None
    return Plan(strict, relaxed, tuple([*required, *slots]), tuple(pairs[:MAX_WORDS]), tuple(typed.words))


def content_words(text: str) -> list[str]:
    """A query's words without its stop words (all of them when it has nothing else), each once:
    the tags a new asset answering that query is offered."""
    words = list(dict.fromkeys(w.casefold() for w in re.findall(r"[\w'-]+", text)))
    return [w for w in words if w not in STOP_WORDS] or words


def _group(slots: list[Node], minimum: int) -> Node:
    return slots[0] if len(slots) == 1 else Group(tuple(slots), minimum)


def _slots_and_pairs(words: list[str], synonyms: Synonyms) -> tuple[list[Node], list[Phrase]]:
    """One slot per content word or synonym run; pairs of content words with only stop words between."""
    content = {i for i, w in enumerate(words) if w.casefold() not in STOP_WORDS} or set(range(len(words)))
    slots: list[Node] = []
    at = 0
    while at < len(words):
        length, members = synonyms_of(words[at:], synonyms)
        run = [words[i] for i in range(at, at + max(length, 1)) if i in content]
        at += max(length, 1)
        if run:
            typed_node = all_of(Word(w) for w in run)
            slots.append(any_of([typed_node, *map(_alternative, members)], best=True) if members else typed_node)
    ordered = sorted(content)
    pairs = [Phrase(" ".join(words[a:b + 1])) for a, b in zip(ordered, ordered[1:], strict=False)]
    return slots, pairs


def _with_synonyms(node: Node | None, synonyms: Synonyms) -> Node | None:
    """An explicit query with each single word that is in a synonym group widened to the group."""
    if node is None or not synonyms:
        return node
    if isinstance(node, Word) and node.field is None and not node.prefix:
        length, members = synonyms_of([node.text], synonyms)
        return any_of([node, *map(_alternative, members)], best=True) if length else node
    if isinstance(node, Group):
        return Group(tuple(_with_synonyms(p, synonyms) for p in node.parts), node.minimum, node.best)
    if isinstance(node, Not):
        return Not(_with_synonyms(node.part, synonyms))
    return node
