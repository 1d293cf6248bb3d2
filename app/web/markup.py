"""Safe rendering of user-written Markdown and small display helpers."""
from __future__ import annotations

import functools

from markdown_it import MarkdownIt
from markupsafe import Markup

# "js-default" escapes raw HTML and refuses javascript:/vbscript:/data: links.
_markdown = MarkdownIt("js-default", {"linkify": False, "typographer": True}).enable("table")


def render_markdown(text: str | None) -> Markup:
    """Markdown to HTML with every raw HTML tag escaped."""
    return Markup(_markdown.render(text or ""))


def filesize(size: int | None) -> str:
    if size is None:
        return ""
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


@functools.lru_cache(maxsize=256)
def markdown_text(text: str | None) -> str:
    """Markdown as the plain text a reader sees: no **, #, links' addresses or table rules; one line
    per paragraph, heading, list item or table cell row. (Search snippets and the index read this.)"""
    lines: list[str] = []
    for token in _markdown.parse(text or ""):
        if token.type == "inline":
            words = "".join(child.content if child.type in ("text", "code_inline") else
                            " " if child.type in ("softbreak", "hardbreak") else ""
                            for child in token.children or ())
            if words.strip():
                lines.append(words.strip())
        elif token.type in ("code_block", "fence") and token.content.strip():
            lines.append(token.content.strip())
    return "\n".join(lines)
