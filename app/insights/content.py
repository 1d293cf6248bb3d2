"""What the library holds and what goes unused: ignored assets, the (dimension's terms) × stage coverage grid."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import case, exists, func, select

from app.extensions import db
from app.insights.scope import Scope, asset_filter, event_filter, owner_names, uses_by_asset
from app.library import score, taxonomy
from app.models import KIND_LABELS, Asset, AssetKind, Stage, Term, UsageEvent, asset_stage, asset_term, utcnow
from app.usage import IGNORE_GRACE_DAYS

# --- ignored content -------------------------------------------------------------------------

@dataclass(slots=True)
class IgnoredAsset:
    id: int
    title: str
    kind: str
    owner: str
    created_at: datetime
    last_used_at: datetime | None

    @property
    def age_days(self) -> int:
        return (utcnow() - self.created_at).days


@dataclass
class Ignored:
    not_used: list[IgnoredAsset]   # used before, but not in the range
    never_used: list[IgnoredAsset]
    new: list[IgnoredAsset] = field(default_factory=list)  # unused but younger than the grace period: not ignored

    @property
    def total(self) -> int:
        return len(self.not_used) + len(self.never_used)


def grace_start(scope: Scope) -> datetime:
    """Assets created at or after this are *new* in the scope, never *ignored* (usage.IGNORE_GRACE_DAYS)."""
    return scope.end - timedelta(days=IGNORE_GRACE_DAYS)


def ignored(scope: Scope) -> Ignored:
    """Live assets with no use in the range, with the last use before the range's end; those younger
    than the grace period at the range's end are listed apart as new."""
    used_in_range = exists().where(UsageEvent.asset_id == Asset.id, event_filter(scope))
    last_used = (select(func.max(UsageEvent.created_at))
                 .where(UsageEvent.asset_id == Asset.id, UsageEvent.created_at < scope.end,
                        event_filter(scope, in_range=False))
                 .scalar_subquery())
    rows = db.session.execute(
        select(Asset.id, Asset.title, Asset.kind, Asset.owner_id, Asset.created_at, last_used)
        .where(asset_filter(scope, live=True), ~used_in_range)
        .order_by(Asset.created_at, Asset.id)
    ).tuples().all()
    # A team's month can leave thousands of assets unused: plain tuples and one label lookup per row.
    owners = owner_names({r[3] for r in rows})
    items = [IgnoredAsset(asset_id, title, KIND_LABELS[kind], owners.get(owner_id, "—"), created_at, last_used_at)
             for asset_id, title, kind, owner_id, created_at, last_used_at in rows]
    young = grace_start(scope)
    new = [i for i in items if i.created_at >= young]
    items = [i for i in items if i.created_at < young]
    not_used = sorted((i for i in items if i.last_used_at), key=lambda i: (i.last_used_at, i.id))
    return Ignored(not_used, [i for i in items if not i.last_used_at], new)


def ignored_counts(scope: Scope) -> tuple[int, int]:
    """How many assets `ignored(scope)` lists as ignored and as new, counted in the database (the
    overview needs only the numbers: no last use, no owners)."""
    used_in_range = exists().where(UsageEvent.asset_id == Asset.id, event_filter(scope))
    young = Asset.created_at >= grace_start(scope)
    unused, new = db.session.execute(
        select(func.count(), func.coalesce(func.sum(case((young, 1), else_=0)), 0))
        .where(asset_filter(scope, live=True), ~used_in_range)).one()
    return unused - new, new


# --- coverage grid ---------------------------------------------------------------------------

@dataclass
class Cell:
    term: str
    stage: str
    assets: int = 0
    uses: int = 0
    ignored: int = 0  # assets of the cell with no use in the range (new ones are not ignored)
    new: int = 0  # assets younger than the grace period with no use yet
    term_id: int = 0
    stage_id: int = 0

    @property
    def state(self) -> str:
        if not self.assets:
            return "empty"
        if self.new == self.assets:
            return "new"
        if self.ignored and self.ignored == self.assets - self.new:
            return "ignored"
        return "partly-ignored" if self.ignored else "used"

    @property
    def ignored_share(self) -> float | None:
        """Share of the cell's assets old enough to judge that had no use in the range (None: none to judge)."""
        judged = self.assets - self.new
        return self.ignored / judged if judged else None

    @property
    def heat(self) -> int | None:
        """The ignored share in tenths, 0 (every asset used) to 10 (all ignored): the cell's colour."""
        return None if self.ignored_share is None else round(self.ignored_share * 10)

    @property
    def uses_per_asset(self) -> float:
        return round(self.uses / self.assets, 1) if self.assets else 0.0


@dataclass
class Coverage:
    dimension: str  # whose terms are the rows: the dimension crossed with stage
    terms: list[str]
    stages: list[str]
    cells: list[Cell]

    def cell(self, term: str, stage: str) -> Cell:
        return self._index[(term, stage)]

    def __post_init__(self):
        self._index = {(c.term, c.stage): c for c in self.cells}


def coverage(scope: Scope, dimension_id: int | None = None) -> Coverage:
    """A dimension's terms (the first dimension unless another is asked for) × stages: live assets
    in each cell and their uses in the range. A scope's term of another dimension narrows the assets."""
    dimension = taxonomy.dimension_or_first(dimension_id)
    own_term = dimension is not None and scope.term_id in {t.id for t in dimension.terms}
    terms = [t for t in (dimension.terms if dimension else []) if not own_term or t.id == scope.term_id]
    stages = [s for s in db.session.scalars(select(Stage).order_by(Stage.position, Stage.name))
              if scope.stage_id in (None, s.id)]
    narrowing = replace(scope, term_id=None if own_term else scope.term_id, stage_id=None)
    pairs = db.session.execute(
        select(asset_term.c.term_id, asset_stage.c.stage_id, asset_term.c.asset_id, Asset.created_at)
        .join(asset_stage, asset_stage.c.asset_id == asset_term.c.asset_id)
        .join(Asset, Asset.id == asset_term.c.asset_id)
        .join(Term, Term.id == asset_term.c.term_id)
        .where(Term.dimension_id == (dimension.id if dimension else None), asset_filter(narrowing, live=True))
    ).all()
    uses = uses_by_asset(scope)
    cells = {(term.id, stg.id): Cell(term.name, stg.name, term_id=term.id, stage_id=stg.id)
             for term in terms for stg in stages}
    young = grace_start(scope)
    for term_id, stage_id, asset_id, created_at in pairs:
        if cell := cells.get((term_id, stage_id)):
            cell.assets += 1
            cell.uses += uses.get(asset_id, 0)
            unused = not uses.get(asset_id)
            cell.new += unused and created_at >= young
            cell.ignored += unused and created_at < young
    return Coverage(dimension.name if dimension else "", [t.name for t in terms], [s.name for s in stages],
                    list(cells.values()))


@dataclass
class CellAsset:
    id: int
    title: str
    kind: str
    owner: str
    uses: int
    by_kind: dict[str, int]
    last_used_at: datetime | None


@dataclass
class CellDetail:
    term: Term
    stage: Stage
    assets: list[CellAsset]

    @property
    def uses(self) -> int:
        return sum(a.uses for a in self.assets)


def cell_detail(scope: Scope, term_id: int, stage_id: int) -> CellDetail | None:
    """One coverage cell: the live assets tagged with the term and the stage (narrowed by the scope's
    other filters), their uses in the range by kind, most used first; None for an unknown term or stage."""
    term, stage = db.session.get(Term, term_id), db.session.get(Stage, stage_id)
    if term is None or stage is None:
        return None
    tagged = Asset.id.in_(select(asset_term.c.asset_id).where(asset_term.c.term_id == term_id))
    rows = db.session.execute(select(Asset.id, Asset.title, Asset.kind, Asset.owner_id)
                              .where(asset_filter(replace(scope, stage_id=stage_id), live=True), tagged)).all()
    ids = [r.id for r in rows]
    by_kind: dict[int, dict[str, int]] = {}
    for asset_id, kind, n in db.session.execute(
            select(UsageEvent.asset_id, UsageEvent.kind, func.count())
            .where(event_filter(scope), UsageEvent.asset_id.in_(ids)).group_by(UsageEvent.asset_id, UsageEvent.kind)):
        by_kind.setdefault(asset_id, {})[kind] = n
    last_used = dict(db.session.execute(
        select(UsageEvent.asset_id, func.max(UsageEvent.created_at))
        .where(event_filter(scope, in_range=False), UsageEvent.created_at < scope.end, UsageEvent.asset_id.in_(ids))
        .group_by(UsageEvent.asset_id)).all())
    owners = owner_names(r.owner_id for r in rows)
    items = [CellAsset(r.id, r.title, AssetKind(r.kind).label, owners.get(r.owner_id, "—"),
                       sum(by_kind.get(r.id, {}).values()), by_kind.get(r.id, {}), last_used.get(r.id))
             for r in rows]
    return CellDetail(term, stage, sorted(items, key=lambda a: (-a.uses, a.title.lower(), a.id)))


# --- content score ---------------------------------------------------------------------------

@dataclass
class ScoredAsset:
    id: int
    title: str
    kind: str
    owner: str
    score: score.Score


SCORE_SORTS = {"score": "Highest first", "score_low": "Lowest first"}


def scored(scope: Scope, sort: str = "score") -> list[ScoredAsset]:
    """Live assets of the scope's term, stage and kind with their content score (always over the
    last score.SCORE_DAYS days, whatever the range), highest first or (`score_low`) lowest first."""
    rows = db.session.execute(select(Asset.id, Asset.title, Asset.kind, Asset.owner_id)
                              .where(asset_filter(scope, live=True))).all()
    found = score.scores([r.id for r in rows])
    owners = owner_names(r.owner_id for r in rows)
    items = [ScoredAsset(r.id, r.title, AssetKind(r.kind).label, owners.get(r.owner_id, "—"), found[r.id])
             for r in rows]
    sign = 1 if sort == "score_low" else -1
    return sorted(items, key=lambda i: (sign * i.score.total, i.title.lower(), i.id))
