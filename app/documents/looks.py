"""An asset's look (its accent colours and fonts, read off its first page) and a starter template in
that look: "start from this asset" gives a marketer a customizable one-pager that already looks
like the brochure it stands beside."""
from __future__ import annotations

import colorsys
import re
from dataclasses import dataclass
from pathlib import Path

import pypdf
from flask import current_app
from markupsafe import escape
from PIL import Image

from app.documents.authoring import EXAMPLE_FIELDS, Field
from app.files import pages, storage
from app.models import Asset

DEFAULT_ACCENT = "#3b5bdb"
DEFAULT_INK = "#1d2939"
SUBSET_PREFIX = re.compile(r"^[A-Z]{6}\+")
STYLE_SUFFIX = re.compile(r"[-,](Bold|Italic|Oblique|Regular|Medium|Light|Semibold|SemiBold|Black|Roman|MT|PS)+$")


@dataclass(frozen=True)
class Look:
    accent: str = DEFAULT_ACCENT
    ink: str = DEFAULT_INK
    fonts: tuple[str, ...] = ()
    source: str = ""  # what the look was read from, for the flash message

    @property
    def font_stack(self) -> str:
        named = [f'"{f}"' for f in (*self.fonts, "DejaVu Sans")]
        return ", ".join([*dict.fromkeys(named), "sans-serif"])


def look_of(asset: Asset) -> Look:
    """The accent colour, text colour and font families of the asset's first page; Bridge's defaults
    where the asset has no pages (a messaging asset, a link) or they cannot be read."""
    version = asset.current_version
    if version is None or not version.pages_name:
        return Look()
    pdf_path = storage.path_of(version.pages_name)
    try:
        png = pages.page_png(pdf_path, 0, 240, current_app.config["DATA_DIR"] / "page-cache")
        accent, ink = _colours(png)
    except (pages.PageError, OSError):
        accent, ink = DEFAULT_ACCENT, DEFAULT_INK
    return Look(accent, ink, _fonts(pdf_path), version.original_filename or asset.title)


def _colours(png: Path) -> tuple[str, str]:
    """The most used saturated colour (the accent) and the most used dark one (the text)."""
    with Image.open(png) as image:
        counted = image.convert("RGB").quantize(colors=12).convert("RGB").getcolors(240 * 400) or []
    accent = ink = None
    for _count, (r, g, b) in sorted(counted, reverse=True):
        hue, lightness, saturation = colorsys.rgb_to_hls(r / 255, g / 255, b / 255)
        if accent is None and saturation > 0.35 and 0.2 < lightness < 0.75:
            accent = (r, g, b)
        if ink is None and lightness < 0.3:
            ink = (r, g, b)
    return (_hex(accent) if accent else DEFAULT_ACCENT), (_hex(ink) if ink else DEFAULT_INK)


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _fonts(pdf_path: Path, limit: int = 2) -> tuple[str, ...]:
    """Family names of the fonts page 1 uses, most used first (subset prefixes and styles dropped)."""
    try:
        page = pypdf.PdfReader(pdf_path).pages[0]
        fonts = page.get("/Resources", {}).get_object().get("/Font", {}).get_object()
        names = [str(font.get_object().get("/BaseFont", "")).lstrip("/") for font in fonts.values()]
    except Exception:  # noqa: BLE001 - a file pypdf cannot read has no fonts to offer, not an error
        return ()
    families: list[str] = []
    for name in names:
        family = STYLE_SUFFIX.sub("", SUBSET_PREFIX.sub("", name)).replace("-", " ").strip()
        if family and re.fullmatch(r"[\w .]{2,40}", family) and family not in families:
            families.append(family)
    return tuple(families[:limit])


STARTER_FIELDS = [
    *EXAMPLE_FIELDS,
    Field("intro", "Opening paragraph", "long_text", "Why this matters for your team this quarter."),
    Field("customer_logo", "Customer logo", "image"),
    Field("rep_name", "Your name"),  # prefilled with the rep's own details
    Field("rep_email", "Your email"),
]


def starter(asset: Asset, look: Look) -> tuple[str, str, list[Field]]:
    """HTML, CSS and fields of a one-page document in `look`, with the asset's title and summary."""
    html = f"""<header>
  {{% if customer_logo %}}<img class="logo" src="{{{{ customer_logo }}}}" alt="">{{% endif %}}
  <p class="eyebrow">Prepared for {{{{ customer_name }}}}</p>
  <h1>{_jinja_literal(asset.title)}</h1>
</header>
<p class="intro">{{{{ intro }}}}</p>
<section>
  <h2>What you get</h2>
  <p>{_jinja_literal(asset.description or "Describe the outcome in one or two sentences.")}</p>
</section>
<footer>{{{{ rep_name }}}} · {{{{ rep_email }}}} · {{{{ today }}}}</footer>
"""
    css = f"""body {{ font-family: {look.font_stack}; color: {look.ink}; }}
h1 {{ color: {look.accent}; font-size: 26pt; margin: 0 0 8pt; }}
h2 {{ color: {look.accent}; font-size: 14pt; border-bottom: 2pt solid {look.accent}; padding-bottom: 3pt; }}
.eyebrow {{ text-transform: uppercase; letter-spacing: .08em; font-size: 9pt; color: {look.accent}; }}
.intro {{ font-size: 12pt; }}
.logo {{ float: right; max-height: 40pt; max-width: 140pt; }}
footer {{ position: fixed; bottom: 0; font-size: 8pt; color: {look.ink}; opacity: .7; }}
"""
    return html, css, list(STARTER_FIELDS)


def _jinja_literal(text: str) -> str:
    """Plain text placed in a template: HTML-escaped and kept out of Jinja's reach."""
    return "{% raw %}" + str(escape(text)).replace("{% endraw %}", "") + "{% endraw %}"
