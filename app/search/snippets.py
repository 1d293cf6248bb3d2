"""Snippets: the passage of an asset's text (Markdown already made plain) that holds the most of
the query's words, hits marked; boilerplate lines (in most documents of the asset's kind, found
while the index was built) never make the snippet."""
from __future__ import annotations

import re
from collections.abc import Collection

from markupsafe import Markup

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


def snippet(text: str, terms: list[str], max_chars: int = 240, boilerplate: Collection[int] = ()) -> Markup:
    """An HTML-escaped excerpt of `text`: the window of `max_chars` with the most distinct query
    words (then the most hits), hits in <mark>.

    Words are matched on the stem's prefix ("pric" for pricing/price) with one regular
    expression: running the index's analyzer over each result's text was most of a page's time.
    """
    text = without_lines((text or "")[:SOURCE_CHARS], boilerplate)
    prefixes = sorted({t[:-1] if len(t) > 4 else t for t in terms if t}, key=len, reverse=True)
    pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, prefixes)) + r")\w*", re.IGNORECASE) if prefixes else None
    hits = [(m.start(), _which(m.group(0), prefixes)) for m in pattern.finditer(text)] if pattern else []
    start = _best_window(hits, max_chars)
    if start:
        start = text.find(" ", start) + 1 or start
    window = re.sub(r"\s+", " ", text[start:start + max_chars * 2]).strip()
    more = len(window) > max_chars or start + max_chars * 2 < len(text)
    window = _cut(window, max_chars)
    parts, last = [], 0
    for hit in (pattern.finditer(window) if pattern else ()):
        parts.append(Markup.escape(window[last:hit.start()]))
        parts.append(Markup('<mark class="hit">{}</mark>').format(hit.group(0)))
        last = hit.end()
    parts.append(Markup.escape(window[last:]))
    return Markup("{}{}{}").format("… " if start else "", Markup("").join(parts), " …" if more else "")


def _which(word: str, prefixes: list[str]) -> str:
    word = word.casefold()
    return next((p for p in prefixes if word.startswith(p.casefold())), word)


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
