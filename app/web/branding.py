"""The company whose content Bridge serves: its name and logo, shown to prospects (the share viewer,
pitch kit covers). An admin sets them on Admin → Branding, kept in the `setting` table; until then
the name is BRIDGE_COMPANY_NAME and there is no logo."""
from __future__ import annotations

import base64
import hashlib
import io
from dataclasses import dataclass

from flask import current_app
from PIL import Image, UnidentifiedImageError

from app.database import transaction
from app.extensions import db
from app.models import Setting

NAME_KEY, LOGO_KEY = "company_name", "company_logo"
MAX_NAME = 80
MAX_LOGO_BYTES = 512 * 1024
MAX_LOGO_PIXELS = 4000 * 4000
LOGO_HEIGHT = 160  # stored at most this tall: crisp in a 40 px bar on a phone's dense screen


class BrandingError(ValueError):
    """An admin-facing reason why the name or logo cannot be used."""


@dataclass(frozen=True)
class Branding:
    name: str
    logo_png: bytes | None = None

    @property
    def logo_version(self) -> str:
        """Changes when the logo does: a cache-busting query for its URL."""
        return hashlib.sha256(self.logo_png).hexdigest()[:12] if self.logo_png else ""

    @property
    def logo_data_uri(self) -> str:
        """The logo inline, for PDFs (which fetch nothing)."""
        return "data:image/png;base64," + base64.b64encode(self.logo_png).decode() if self.logo_png else ""


def current() -> Branding:
    values = {s.key: s.value for s in db.session.scalars(
        db.select(Setting).where(Setting.key.in_((NAME_KEY, LOGO_KEY))))}
    logo = base64.b64decode(values[LOGO_KEY]) if values.get(LOGO_KEY) else None
    return Branding(values.get(NAME_KEY) or current_app.config["COMPANY_NAME"], logo)


def save(name: str, logo: bytes | None = None, remove_logo: bool = False) -> Branding:
    """Set the company name and, when given, a new logo (PNG or JPEG, re-encoded as a small PNG)."""
    name = " ".join(name.split())
    if not name:
        raise BrandingError("Give the company a name.")
    if len(name) > MAX_NAME:
        raise BrandingError(f"Keep the name under {MAX_NAME} characters.")
    encoded = base64.b64encode(logo_png(logo)).decode() if logo else None
    with transaction():
        _put(NAME_KEY, name)
        if encoded is not None:
            _put(LOGO_KEY, encoded)
        elif remove_logo:
            _put(LOGO_KEY, "")
    return current()


def _put(key: str, value: str) -> None:
    setting = db.session.get(Setting, key)
    if setting is None:
        db.session.add(Setting(key=key, value=value))
    else:
        setting.value = value


def logo_png(data: bytes) -> bytes:
    """A PNG or JPEG upload checked and redrawn as a PNG at most LOGO_HEIGHT tall (nothing of the
    original file is kept: no metadata, no second image hidden in it)."""
    if len(data) > MAX_LOGO_BYTES:
        raise BrandingError(f"The logo is larger than {MAX_LOGO_BYTES // 1024} KB.")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ("PNG", "JPEG"):
                raise BrandingError("The logo must be a PNG or JPEG image.")
            if image.width * image.height > MAX_LOGO_PIXELS:
                raise BrandingError("The logo has too many pixels (4000 × 4000 at most).")
            image.load()
            picture = image.convert("RGBA")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise BrandingError("The logo must be a PNG or JPEG image.") from None
    if picture.height > LOGO_HEIGHT:
        picture = picture.resize((max(1, round(picture.width * LOGO_HEIGHT / picture.height)), LOGO_HEIGHT),
                                 Image.Resampling.LANCZOS)
    out = io.BytesIO()
    picture.save(out, "PNG", optimize=True)
    return out.getvalue()
