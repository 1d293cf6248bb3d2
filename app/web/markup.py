"""Safe rendering of user-written Markdown and small display helpers."""
from __future__ import annotations

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
