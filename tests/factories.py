"""Factories shared by fixtures and by worlds built once per module: users and assets made through
the services, as the app makes them."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from app.accounts import service as accounts
from app.library import taxonomy
from app.library.assets import AssetData, save_asset
from app.models import Asset, User

PASSWORD = "correct-horse-battery"


def new_user(email: str, role: str = "rep", team: str | None = "Team East", password: str = PASSWORD,
             name: str | None = None) -> User:
    return accounts.create_user(email, name or email.split("@")[0].title(), role, password, team)


def new_asset(owner: User, title: str = "Retail ROI one-pager", *, kind: str = "one_pager",
              terms: list[str] = ("Retail",), stages: list[str] = ("Decision",), status: str = "published",
              expires_on: date | None = None, body: str = "Talk track text",
              upload: tuple[Path, str] | None = None, tags: list[str] = (), product: str = "Flow",
              description: str = "", url: str = "", audience: str = "") -> Asset:
    """An asset made through the library's service; `terms` are names of taxonomy terms of any dimension."""
    found, _ = taxonomy.terms_by_name(list(terms))
    stgs, _ = taxonomy.stages_by_name(list(stages))
    data = AssetData(title=title, kind=kind, description=description, product=product, tags=list(tags),
                     term_ids=[t.id for t in found], stage_ids=[s.id for s in stgs], status=status,
                     expires_on=expires_on, body="" if upload or url else body, url=url, audience=audience)
    return save_asset(data, owner, upload=upload)


def aged(asset: Asset, days: int) -> Asset:
    """The asset was created (and last checked) `days` days ago: old enough to be called ignored."""
    from datetime import timedelta

    from sqlalchemy import update

    from app.database import transaction
    from app.extensions import db
    from app.models import utcnow

    when = utcnow() - timedelta(days=days)
    with transaction():
        db.session.execute(update(Asset).where(Asset.id == asset.id)
                           .values(created_at=when, verified_at=when, updated_at=when))
    db.session.refresh(asset)
    return asset
