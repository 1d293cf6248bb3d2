"""Snippets: an excerpt of an asset's database text around the first hit, hits marked."""
from __future__ import annotations

import re

from markupsafe import Markup

from app.search.documents import SOURCE_CHARS


def snippet(text: str, terms: list[str], max_chars: int = 240) -> Markup:
    """An HTML-escaped excerpt of `text` around the query's first hit, hits in <mark>.

    Words are matched on the stem's prefix ("pric" for pricing/price) with one regular
    expression: running the index's analyzer over each result's text was most of a page's time.
    """
    text = (text or "")[:SOURCE_CHARS]
    prefixes = sorted({t[:-1] if len(t) > 4 else t for t in terms if t}, key=len, reverse=True)
    pattern = match = None
    if prefixes:
        pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, prefixes)) + r")\w*", re.IGNORECASE)
        match = pattern.search(text)
    start = max(0, match.start() - max_chars // 3) if match else 0
    if start:
        start = text.find(" ", start) + 1 or start
    window = re.sub(r"\s+", " ", text[start:start + max_chars * 2]).strip()
    more = len(window) > max_chars or start + max_chars * 2 < len(text)
    window = window[:max_chars]
    parts, last = [], 0
    for hit in (pattern.finditer(window) if match else ()):
        parts.append(Markup.escape(window[last:hit.start()]))
        parts.append(Markup('<mark class="hit">{}</mark>').format(hit.group(0)))
        last = hit.end()
    parts.append(Markup.escape(window[last:]))
    return Markup("{}{}{}").format("… " if start else "", Markup("").join(parts), " …" if more else "")
