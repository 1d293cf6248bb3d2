"""The segment and funnel-stage vocabulary that assets are tagged with."""
from __future__ import annotations

from sqlalchemy import func, select

from app.database import transaction
from app.extensions import db
from app.models import Segment, Stage, asset_segment, asset_stage

TERM_MODELS = {"segment": Segment, "stage": Stage}
_LINKS = {Segment: (asset_segment, "segment_id"), Stage: (asset_stage, "stage_id")}


class TaxonomyError(ValueError):
    """A user-facing reason why a taxonomy change was refused."""


def segments() -> list[Segment]:
    return list(db.session.scalars(select(Segment).order_by(Segment.position, Segment.name)))


def stages() -> list[Stage]:
    return list(db.session.scalars(select(Stage).order_by(Stage.position, Stage.name)))


def _clash(model, name: str):
    return db.session.scalar(select(model).where(func.lower(model.name) == name.lower()))


def add_term(model, name: str):
    """Append a segment or stage at the end of its list."""
    name = name.strip()
    if not name:
        raise TaxonomyError("A name is required.")
    if _clash(model, name):
        raise TaxonomyError(f"{name!r} already exists.")
    last = db.session.scalar(select(func.max(model.position))) or 0
    with transaction():
        term = model(name=name, position=last + 1)
        db.session.add(term)
    return term


def rename_term(term, name: str) -> None:
    name = name.strip()
    clash = _clash(type(term), name)
    if not name or (clash is not None and clash is not term):
        raise TaxonomyError(f"{name!r} is empty or already taken.")
    with transaction():
        term.name = name


def usage_count(term) -> int:
    table, column = _LINKS[type(term)]
    return db.session.scalar(
        select(func.count()).select_from(table).where(table.c[column] == term.id)
    )


def delete_term(term) -> None:
    """Delete an unused term; one that tags assets must be renamed or untagged first."""
    if used := usage_count(term):
        raise TaxonomyError(f"{term.name!r} tags {used} asset(s); untag them or rename it instead.")
    with transaction():
        db.session.delete(term)


def move_term(term, offset: int) -> None:
    """Move a term up (-1) or down (+1) in its ordered list."""
    ordered = segments() if isinstance(term, Segment) else stages()
    index = ordered.index(term)
    target = index + offset
    if not 0 <= target < len(ordered):
        return
    ordered[index], ordered[target] = ordered[target], ordered[index]
    with transaction():
        for position, item in enumerate(ordered, start=1):
            item.position = position


def ensure_terms(model, names: list[str]) -> None:
    """Create any missing terms in the given order (used by seeding)."""
    for name in names:
        if _clash(model, name) is None:
            add_term(model, name)


def terms_by_name(model, names: list[str]) -> tuple[list, list[str]]:
    """Look up terms by case-insensitive name; returns (found, unknown names)."""
    found, unknown = [], []
    for name in (n.strip() for n in names if n.strip()):
        term = _clash(model, name)
        (found if term else unknown).append(term or name)
    return found, unknown
