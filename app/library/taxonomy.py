"""The vocabularies assets are tagged with: dimensions (Industry, Company size, …) with their terms,
and the ordered funnel stages.

Names are unique within their list (dimensions among dimensions, a term within its dimension,
stages among stages), ignoring case. Filters choose terms by id: several terms of one dimension
widen a filter (OR), terms of different dimensions narrow it (AND).
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.database import transaction
from app.extensions import db
from app.models import Dimension, Stage, Term, asset_stage, asset_term
from app.web import params

Item = Dimension | Term | Stage


class TaxonomyError(ValueError):
    """A user-facing reason why a taxonomy change was refused."""


def dimensions() -> list[Dimension]:
    """Every dimension in order, its terms loaded."""
    return list(db.session.scalars(select(Dimension).options(selectinload(Dimension.terms))
                                   .order_by(Dimension.position, Dimension.name)))


def stages() -> list[Stage]:
    return list(db.session.scalars(select(Stage).order_by(Stage.position, Stage.name)))


def terms() -> list[Term]:
    """Every term, in the order of its dimension, then its own."""
    return [term for dimension in dimensions() for term in dimension.terms]


def dimension_or_first(dimension_id: int | None) -> Dimension | None:
    """The dimension asked for, or the first one (None when there are none)."""
    found = dimensions()
    return next((d for d in found if d.id == dimension_id), found[0] if found else None)


def slug(name: str) -> str:
    """A dimension's name as a query-string key: "Company size" → company_size."""
    return re.sub(r"[^a-z0-9]+", "_", name.casefold()).strip("_")


def _siblings(item: Item):
    """The list an item's name must be unique in, as a select."""
    model = type(item)
    query = select(model)
    if isinstance(item, Term):
        query = query.where(Term.dimension_id == item.dimension_id)
    return query


def _clash(item: Item, name: str) -> Item | None:
    """Another item of the same list with this name, ignoring case."""
    model = type(item)
    query = _siblings(item).where(func.lower(model.name) == name.lower())
    if item.id is not None:
        query = query.where(model.id != item.id)
    return db.session.scalar(query)


def _add(item: Item, name: str) -> Item:
    """Append `item` (a new dimension, term or stage) at the end of its list."""
    name = name.strip()
    if not name:
        raise TaxonomyError("A name is required.")
    item.name = name
    if _clash(item, name) is not None:
        raise TaxonomyError(f"{name!r} already exists.")
    last = db.session.scalar(select(func.max(_siblings(item).subquery().c.position))) or 0
    with transaction():
        item.position = last + 1
        db.session.add(item)
    return item


def add_dimension(name: str) -> Dimension:
    return _add(Dimension(), name)


def add_term(dimension: Dimension, name: str) -> Term:
    return _add(Term(dimension_id=dimension.id), name)


def add_stage(name: str) -> Stage:
    return _add(Stage(), name)


def rename(item: Item, name: str) -> None:
    """Rename a dimension, term or stage; assets tagged with it follow."""
    name = name.strip()
    if not name:
        raise TaxonomyError(f"“{item.name}” was not renamed: a name cannot be empty.")
    if _clash(item, name) is not None:
        raise TaxonomyError(f"“{item.name}” was not renamed: “{name}” is already in that list.")
    with transaction():
        item.name = name


def usage_count(item: Item) -> int:
    """How many assets an item tags (a dimension: through any of its terms)."""
    if isinstance(item, Stage):
        return db.session.scalar(select(func.count()).select_from(asset_stage)
                                 .where(asset_stage.c.stage_id == item.id))
    ids = [t.id for t in item.terms] if isinstance(item, Dimension) else [item.id]
    return db.session.scalar(select(func.count(func.distinct(asset_term.c.asset_id)))
                             .where(asset_term.c.term_id.in_(ids))) if ids else 0


def delete(item: Item) -> None:
    """Delete an unused dimension (with its terms), term or stage; one that tags assets must be
    renamed or untagged first."""
    if used := usage_count(item):
        raise TaxonomyError(f"{item.name!r} tags {used} asset(s); untag them or rename it instead.")
    with transaction():
        db.session.delete(item)


def move(item: Item, offset: int) -> None:
    """Move an item up (-1) or down (+1) in its ordered list."""
    model = type(item)
    ordered = list(db.session.scalars(_siblings(item).order_by(model.position, model.name)))
    index = ordered.index(item)
    target = index + offset
    if not 0 <= target < len(ordered):
        return
    ordered[index], ordered[target] = ordered[target], ordered[index]
    with transaction():
        for position, each in enumerate(ordered, start=1):
            each.position = position


def ensure_dimension(name: str, names: Iterable[str] = ()) -> Dimension:
    """The dimension called `name` with (at least) these terms, created as needed (seeding, tests)."""
    dimension = db.session.scalar(select(Dimension).where(func.lower(Dimension.name) == name.lower()))
    if dimension is None:
        dimension = add_dimension(name)
    have = {t.name.lower() for t in dimension.terms}
    for term_name in names:
        if term_name.lower() not in have:
            add_term(dimension, term_name)
    db.session.refresh(dimension)
    return dimension


def ensure_stages(names: Iterable[str]) -> None:
    """Create any missing stages in the given order (seeding, tests)."""
    have = {s.name.lower() for s in stages()}
    for name in names:
        if name.lower() not in have:
            add_stage(name)


def terms_by_name(names: Iterable[str], dimension: Dimension | None = None) -> tuple[list[Term], list[str]]:
    """Terms named (ignoring case) in `dimension`, or in any dimension; returns (found, unknown names)."""
    found, unknown = [], []
    for name in (n.strip() for n in names if n.strip()):
        query = select(Term).where(func.lower(Term.name) == name.lower())
        if dimension is not None:
            query = query.where(Term.dimension_id == dimension.id)
        matches = list(db.session.scalars(query))
        found += matches
        if not matches:
            unknown.append(name)
    return found, unknown


def stages_by_name(names: Iterable[str]) -> tuple[list[Stage], list[str]]:
    """Stages named (ignoring case); returns (found, unknown names)."""
    found, unknown = [], []
    for name in (n.strip() for n in names if n.strip()):
        stage = db.session.scalar(select(Stage).where(func.lower(Stage.name) == name.lower()))
        (found if stage else unknown).append(stage or name)
    return found, unknown


def dimension_of_terms(term_ids: Iterable[int]) -> dict[int, int]:
    """Each existing term id with its dimension's id."""
    ids = list(term_ids)
    return dict(db.session.execute(select(Term.id, Term.dimension_id).where(Term.id.in_(ids))).all()) if ids else {}


def grouped(term_ids: Iterable[int]) -> list[list[int]]:
    """Term ids grouped by dimension (in the dimensions' id order): OR within a group, AND across.
    Ids of no term form a group of their own, which matches nothing."""
    ids = list(dict.fromkeys(term_ids))
    dimension_of = dimension_of_terms(ids)
    groups: dict[int, list[int]] = {}
    for term_id in ids:
        groups.setdefault(dimension_of.get(term_id, -1), []).append(term_id)
    return [groups[key] for key in sorted(groups)]


# Query-string keys that mean something else: a dimension named like one is filtered through `term`.
RESERVED_KEYS = frozenset({"q", "sort", "page", "stage", "kind", "product", "term", "segment", "literal",
                           "dimension", "days", "from", "to", "team", "format", "table", "sid", "pos"})


def term_ids_from(args) -> list[int]:
    """The term filters of a query string (a MultiDict): `term` (ids, or names in any dimension), its
    older name `segment`, and one key per dimension named like it (?industry=Healthcare&company_size=2).
    A name that is no term gives -1, which matches nothing."""
    wanted: list[tuple[Dimension | None, str]] = [(None, v) for v in args.getlist("term") + args.getlist("segment")]
    if any(key not in RESERVED_KEYS for key in args):
        wanted += [(d, v) for d in dimensions() if slug(d.name) not in RESERVED_KEYS
                   for v in args.getlist(slug(d.name))]
    ids: list[int] = []
    for dimension, value in ((d, v.strip()) for d, v in wanted if v.strip()):
        if value.isdigit():
            ids.append(params.as_id(value) or -1)  # an id beyond MAX_INT matches nothing
            continue
        found, _ = terms_by_name([value], dimension)
        ids += [t.id for t in found] or [-1]
    return list(dict.fromkeys(ids))
