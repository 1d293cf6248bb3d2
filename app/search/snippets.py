"""Snippets: the passage of an asset's text (Markdown already made plain) that holds the most of
the query's words, hits marked; boilerplate lines (in most documents of the asset's kind, found
while the index was built) never make the snippet."""
from __future__ import annotations

import re
from collections.abc import Collection

from markupsafe import Markup, escape

from app.search.documents import SOURCE_CHARS, line_key
from app.web.markup import markdown_text

LEAD = 50  # characters shown before the passage's first hit


def source_text(description: str, body: str, file_text: str) -> str:
    """What a snippet is cut from: description, messaging (as plain text) and the file's text."""
    return "\n".join(filter(None, [description, markdown_text(body) if body else "", file_text[:SOURCE_CHARS]]))


def without_lines(text: str, boilerplate: Collection[int]) -> str:
    """`text` less its boilerplate lines."""
    if not boilerplate:
        return text
    return "\n".join(line for line in text.splitlines() if line_key(line) not in boilerplate)


class Highlighter:
    """The query's words as stem prefixes ("pric" for pricing/price), prepared once per search.

    Words are matched on the stem's prefix: running the index's analyzer over each result's text
    was most of a page's time."""

    def __init__(self, terms: list[str]):
        self.prefixes = sorted({(t[:-1] if len(t) > 4 else t).lower() for t in terms if t}, key=len, reverse=True)
        self.pattern = (re.compile(r"\b(?:" + "|".join(map(re.escape, self.prefixes)) + r")\w*", re.IGNORECASE)
                        if self.prefixes else None)


def snippet(text: str, terms: list[str] | Highlighter, max_chars: int = 240,
            boilerplate: Collection[int] = ()) -> Markup:
    """An HTML-escaped excerpt of `text`: the window of `max_chars` with the most distinct query
    words (then the most hits), hits in <mark>."""
    words = terms if isinstance(terms, Highlighter) else Highlighter(terms)
    text = without_lines((text or "")[:SOURCE_CHARS], boilerplate)
    start = _best_window(_hits(text, words.prefixes), max_chars) if words.pattern else 0
    if start:
        start = text.find(" ", start) + 1 or start
    window = re.sub(r"\s+", " ", text[start:start + max_chars * 2]).strip()
    more = len(window) > max_chars or start + max_chars * 2 < len(text)
    window = _cut(window, max_chars)
    parts, last = ["… " if start else ""], 0
    for hit in (words.pattern.finditer(window) if words.pattern else ()):
        parts += [escape(window[last:hit.start()]), '<mark class="hit">', escape(hit.group(0)), "</mark>"]
        last = hit.end()
    parts += [escape(window[last:]), " …" if more else ""]
    return Markup("".join(parts))


def _hits(text: str, prefixes: list[str]) -> list[tuple[int, str]]:
    """(position, prefix) of every word starting with one of `prefixes`, in order. str.find on the
    lower-cased text: a regular expression over a whole document was most of a snippet's time."""
    lower = text.lower()
    if len(lower) != len(text):  # a few letters lower-case to two characters: positions would shift
        pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, prefixes)) + r")", re.IGNORECASE)
        return [(m.start(), m.group(0).lower()) for m in pattern.finditer(text)]
    found = []
    for prefix in prefixes:
        at = lower.find(prefix)
        while at != -1:
            if at == 0 or not (lower[at - 1].isalnum() or lower[at - 1] == "_"):
                found.append((at, prefix))
            at = lower.find(prefix, at + len(prefix))
    return sorted(found)


def _best_window(hits: list[tuple[int, str]], max_chars: int) -> int:
    """Where the window with the most distinct words (then most hits, then the earliest) starts."""
    best, best_key = 0, (0, 0, 0)
    span = max_chars - LEAD
    end = 0
    for first, (position, _) in enumerate(hits):
        end = max(end, first)
        while end + 1 < len(hits) and hits[end + 1][0] - position <= span:
            end += 1
        window = hits[first:end + 1]
        key = (len({word for _, word in window}), len(window), -position)
        if key > best_key:
            best, best_key = max(0, position - LEAD), key
    return best


def _cut(window: str, max_chars: int) -> str:
    """At most `max_chars`, ending at a word's end."""
    if len(window) <= max_chars:
        return window
    cut = window[:max_chars + 1]
    return cut[:cut.rfind(" ")] if " " in cut else window[:max_chars]
