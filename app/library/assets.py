"""The collateral library: who sees which asset, and how assets and versions change."""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from flask import current_app
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import defer, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app import jobs, rollups, usage
from app.database import transaction
from app.extensions import db
from app.files import ingest, pages, previews, storage
from app.library import freshness, taxonomy
from app.models import (
    AUDIENCES,
    CONTENT_WRITERS,
    Asset,
    AssetKind,
    AssetStatus,
    AssetVersion,
    Stage,
    Term,
    User,
    asset_stage,
    asset_term,
    default_audience,
    utcnow,
)


class AssetError(ValueError):
    """A user-facing reason why an asset change was refused."""


@dataclass
class AssetData:
    """Everything an author sets on an asset, as plain values."""

    title: str
    kind: str
    description: str = ""
    product: str = ""
    tags: list[str] = field(default_factory=list)
    term_ids: list[int] = field(default_factory=list)  # of any dimension
    stage_ids: list[int] = field(default_factory=list)
    status: str = AssetStatus.DRAFT.value
    expires_on: date | None = None
    body: str = ""
    url: str = ""
    audience: str = ""  # "customer" or "internal"; empty: by kind (models.default_audience)
    review_interval_days: int | None = None  # empty: by kind (freshness.default_interval)


@dataclass
class Page:
    """One page of a list, with what a pager needs."""

    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def sees_drafts(user) -> bool:
    """Marketers and admins see drafts, archived and expired assets; others only live ones."""
    return user.is_authenticated and user.has_role(*CONTENT_WRITERS)


def today() -> date:
    return utcnow().date()


def live_clause():
    """The SQL condition for an asset that reps and managers may see today."""
    return and_(
        Asset.status == AssetStatus.PUBLISHED.value,
        or_(Asset.expires_on.is_(None), Asset.expires_on >= today()),
    )


def visible_to(user, query: Select) -> Select:
    return query if sees_drafts(user) else query.where(live_clause())


def parse_tags(raw: str) -> list[str]:
    """Comma-separated tags, trimmed, lower-cased and de-duplicated in order."""
    seen: dict[str, None] = {}
    for tag in raw.split(","):
        if tag := tag.strip().lower():
            seen.setdefault(tag[:40])
    return list(seen)


def visible_asset(user, asset_id: int | None) -> Asset | None:
    """The asset if `user` may see it, else None (hidden assets do not exist for reps: views 404)."""
    asset = db.session.get(Asset, asset_id) if asset_id else None
    if asset is None or not (sees_drafts(user) or asset.is_visible_on(today())):
        return None
    return asset


def page_options() -> tuple:
    """What an asset's own page shows besides its columns and its card's rows (`fill_cards`)."""
    return (joinedload(Asset.owner), joinedload(Asset.verified_by).load_only(User.name), selectinload(Asset.template))


def open_asset(user, asset_id: int) -> Asset | None:
    """The asset's page is opened: the asset if `user` may see it, its view logged as a use."""
    asset = db.session.get(Asset, asset_id, options=page_options()) if asset_id else None
    if asset is not None:
        fill_cards([asset])
    if asset is not None and not (sees_drafts(user) or asset.is_visible_on(today())):
        asset = None
    if asset is not None:
        usage.log_use("view", user=user, asset=asset, version=asset.current_version)
    return asset


def download(user, asset: Asset, number: int | None = None) -> AssetVersion | None:
    """The numbered version (or the current one) for download, logged as a use; None if there is none.
    Reps and managers get the current version only: a superseded file (last year's pricing) is for
    the marketers who keep the history, not for sending."""
    versions = asset.versions if sees_drafts(user) else asset.versions[:1]
    version = next((v for v in versions if number is None or v.number == number), None)
    if version is not None:
        usage.log_use("download", user=user, asset=asset, version=version)
    return version


def page_count(asset: Asset) -> int:
    """How many pages the asset's current file shows (its own, or its converted preview's)."""
    version = asset.current_version
    return version.page_count or 0 if version is not None and version.pages_name else 0


def page_image(asset: Asset, number: int, width: int) -> Path | None:
    """Page `number` (from 1) of the asset's current file as a PNG, drawn once within bounds and kept;
    None when there is no such page."""
    version = asset.current_version
    if version is None or not version.pages_name or not 1 <= number <= (version.page_count or 0):
        return None
    try:
        return pages.page_png(storage.path_of(version.pages_name), number - 1, width,
                              current_app.config["DATA_DIR"] / "page-cache")
    except pages.PageError:
        return None


def record_copy(user, asset: Asset) -> None:
    """The messaging text was copied to the clipboard: a use."""
    usage.log_use("copy", user=user, asset=asset)


CARD_RELATIONS = ("terms", "stages", "versions")


def card_options() -> tuple:
    """Loader options for the columns of what a card shows: the verifier's name joined to the assets'
    own query. The card's rows (terms, stages, versions) are filled by `fill_cards`."""
    return (joinedload(Asset.verified_by).load_only(User.name),)


def fill_cards(found: list[Asset]) -> list[Asset]:
    """Fill what the cards of `found` show (terms with their dimension, stages, versions without their
    extracted text) with one plain query per kind of row, whatever the number of cards. Relations an
    asset already has loaded are left as they are. (selectinload did the same in as many statements,
    at 1.3 times the CPU: 3.4 against 2.6 ms for 12 cards, bench/README.md.)"""
    todo = {a.id: a for a in found if any(name not in a.__dict__ for name in CARD_RELATIONS)}
    if not todo:
        return found
    ids = list(todo)
    terms: dict[int, list[Term]] = defaultdict(list)
    stages: dict[int, list[Stage]] = defaultdict(list)
    versions: dict[int, list[AssetVersion]] = defaultdict(list)
    for asset_id, term in db.session.execute(
            select(asset_term.c.asset_id, Term).join(Term, Term.id == asset_term.c.term_id)
            .where(asset_term.c.asset_id.in_(ids)).options(joinedload(Term.dimension))
            .order_by(Term.position, Term.name)):
        terms[asset_id].append(term)
    for asset_id, stage in db.session.execute(
            select(asset_stage.c.asset_id, Stage).join(Stage, Stage.id == asset_stage.c.stage_id)
            .where(asset_stage.c.asset_id.in_(ids)).order_by(Stage.position)):
        stages[asset_id].append(stage)
    for version in db.session.scalars(select(AssetVersion).where(AssetVersion.asset_id.in_(ids))
                                      .options(defer(AssetVersion.text)).order_by(AssetVersion.number.desc())):
        versions[version.asset_id].append(version)
    for asset_id, asset in todo.items():
        for name, rows in (("terms", terms), ("stages", stages), ("versions", versions)):
            if name not in asset.__dict__:
                set_committed_value(asset, name, rows.get(asset_id, []))
    return found


def load_cards(asset_ids: Iterable[int], user=None) -> list[Asset]:
    """The assets of `asset_ids` in the order given, with what their cards show (`fill_cards`)."""
    return fill_cards(load_in_order(asset_ids, *card_options(), user=user))


def load_in_order(asset_ids: Iterable[int], *options, user=None) -> list[Asset]:
    """The assets of `asset_ids` in the order given (repeats and missing ones left out), loaded
    with `options`; only those `user` may see when a user is given."""
    asset_ids = list(dict.fromkeys(asset_ids))
    if not asset_ids:
        return []
    query = select(Asset).where(Asset.id.in_(asset_ids)).options(*options)
    found = {a.id: a for a in db.session.scalars(query if user is None else visible_to(user, query))}
    return [found[i] for i in asset_ids if i in found]


def filtered(user, *, term_ids=(), stage_ids=(), kinds=(), statuses=(), title: str = "") -> Select:
    """Assets `user` may see, narrowed by facets (OR within one facet or dimension, AND across) and
    by words in the title, ignoring case (Unicode-aware on SQLite too: see database.py)."""
    query = visible_to(user, select(Asset))
    if title := " ".join(title.split())[:200]:
        query = query.where(func.lower(Asset.title).contains(title.lower(), autoescape=True))
    for group in taxonomy.grouped(term_ids):
        query = query.where(Asset.id.in_(select(asset_term.c.asset_id).where(asset_term.c.term_id.in_(group))))
    if stage_ids:
        query = query.where(Asset.id.in_(
            select(asset_stage.c.asset_id).where(asset_stage.c.stage_id.in_(stage_ids))))
    if kinds:
        query = query.where(Asset.kind.in_(kinds))
    if statuses:
        query = query.where(Asset.status.in_(statuses))
    return query


def paginate(query: Select, page: int, per_page: int) -> Page:
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    page = max(1, page)
    items = db.session.scalars(
        query.options(*card_options())
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    return Page(fill_cards(list(items)), total, page, per_page)


def browse(user, *, page: int = 1, per_page: int = 24, **facets) -> Page:
    """Newest-first list of the assets `user` may see, narrowed by facets."""
    query = filtered(user, **facets).order_by(Asset.updated_at.desc(), Asset.id.desc())
    return paginate(query, page, per_page)


def coverage_counts(user, dimension_id: int | None) -> dict[tuple[int, int], int]:
    """Number of assets `user` may see in each (term id, stage id) cell of one dimension."""
    visible = visible_to(user, select(Asset.id)).subquery()
    query = (
        select(asset_term.c.term_id, asset_stage.c.stage_id, func.count())
        .join(asset_stage, asset_stage.c.asset_id == asset_term.c.asset_id)
        .join(Term, Term.id == asset_term.c.term_id)
        .where(asset_term.c.asset_id.in_(select(visible.c.id)), Term.dimension_id == dimension_id)
        .group_by(asset_term.c.term_id, asset_stage.c.stage_id)
    )
    return {(term, stage): n for term, stage, n in db.session.execute(query)}


@dataclass
class Home:
    """What the rep's home page shows."""

    dimensions: list  # every dimension, its terms loaded
    dimension: object  # the one the grid shows (None when there are none)
    stages: list
    grid: dict[tuple[int, int], int]  # (term id, stage id) → assets
    recent: list[Asset]
    popular: list[tuple[Asset, int]]  # with their uses in POPULAR_DAYS days


POPULAR_DAYS = 30


def home(user, dimension_id: int | None, limit: int = 6) -> Home:
    """The home page: a dimension's terms × stages grid (the first dimension by default), the assets
    changed last and those used most in POPULAR_DAYS days; the cards of both loaded together."""
    dimensions = taxonomy.dimensions()
    dimension = next((d for d in dimensions if d.id == dimension_id), dimensions[0] if dimensions else None)
    recent_ids = list(db.session.scalars(visible_to(user, select(Asset.id)).order_by(
        Asset.updated_at.desc(), Asset.id.desc()).limit(limit)))
    uses = dict(usage.most_used(visible_to(user, select(Asset.id)), POPULAR_DAYS, limit))
    cards = {a.id: a for a in load_cards([*recent_ids, *uses])}
    return Home(dimensions, dimension, taxonomy.stages(), coverage_counts(user, dimension.id if dimension else None),
                [cards[i] for i in recent_ids if i in cards],
                [(cards[i], n) for i, n in uses.items() if i in cards])


def _apply(asset: Asset, data: AssetData) -> None:
    if not data.title.strip():
        raise AssetError("A title is required.")
    if data.kind not in {k.value for k in AssetKind}:
        raise AssetError(f"Unknown kind {data.kind!r}.")
    if data.status not in {s.value for s in AssetStatus}:
        raise AssetError(f"Unknown status {data.status!r}.")
    if data.url and not data.url.startswith(("https://", "http://")):
        raise AssetError("A video link must start with https:// or http://.")
    audience = data.audience or default_audience(data.kind)
    if audience not in AUDIENCES:
        raise AssetError(f"Unknown audience {data.audience!r}.")
    asset.audience = audience
    interval = data.review_interval_days or freshness.default_interval(data.kind)
    if not freshness.MIN_INTERVAL <= interval <= freshness.MAX_INTERVAL:
        raise AssetError(f"Review every {freshness.MIN_INTERVAL} to {freshness.MAX_INTERVAL} days.")
    asset.review_interval_days = interval
    asset.title = data.title.strip()[:200]
    asset.kind = data.kind
    asset.description = data.description.strip()
    asset.product = data.product.strip()[:80]
    asset.tags = list(data.tags)
    asset.status = data.status
    asset.expires_on = data.expires_on
    asset.body = data.body
    asset.url = data.url.strip()
    asset.terms = list(db.session.scalars(select(Term).where(Term.id.in_(data.term_ids))))
    asset.stages = list(db.session.scalars(select(Stage).where(Stage.id.in_(data.stage_ids))))


def _version_from(stored: ingest.StoredFile, number: int, author) -> AssetVersion:
    return AssetVersion(
        number=number, stored_name=stored.stored_name, thumbnail_name=stored.thumbnail_name,
        original_filename=stored.original_filename, file_type=stored.file_type,
        mime_type=stored.mime_type, size_bytes=stored.size_bytes, sha256=stored.sha256,
        page_count=stored.page_count, text=stored.text, created_by=author,
    )


def save_asset(data: AssetData, author, asset: Asset | None = None,
               upload: tuple[Path, str] | None = None, **extra) -> Asset:
    """Create or edit an asset, optionally with a new file version, all or nothing.

    `upload` is (path of the received file, the name the user gave it). The file is checked
    and stored first; if the database write then fails, the stored file is removed again.
    """
    stored = ingest.ingest(*upload) if upload else None
    try:
        with transaction():
            if asset is None:  # its author has just checked it
                asset = Asset(owner=author, verified_at=utcnow(), verified_by=author, **extra)
                db.session.add(asset)
            else:
                for key, value in extra.items():
                    setattr(asset, key, value)
            _apply(asset, data)
            if stored:
                number = (asset.current_version.number if asset.current_version else 0) + 1
                asset.versions.insert(0, _version_from(stored, number, author))
            if not (asset.versions or asset.body.strip() or asset.url):
                raise AssetError("Add a file, write the messaging text, or give a video link.")
            asset.updated_at = utcnow()
    except BaseException:
        if stored:
            storage.discard(*stored.names)
        raise
    if stored:
        prepare_soon(asset.current_version)
    return asset


def add_version(asset: Asset, upload: tuple[Path, str], author) -> AssetVersion:
    """Store a replacement file as the asset's next version; older versions stay."""
    stored = ingest.ingest(*upload)
    try:
        with transaction():
            number = (asset.current_version.number if asset.current_version else 0) + 1
            version = _version_from(stored, number, author)
            asset.versions.insert(0, version)
            asset.updated_at = utcnow()
    except BaseException:
        storage.discard(*stored.names)
        raise
    prepare_soon(version)
    return version


PREVIEWS_JOB = "file_previews"


def prepare_soon(version: AssetVersion) -> None:
    """Make the version's preview, page count and thumbnail in a job (a deck's conversion takes
    seconds); until it has run the version simply has no preview yet."""
    if version.file_type in previews.PREPARED:
        jobs.enqueue(PREVIEWS_JOB, None, f"Preview of {version.original_filename}"[:200], {"version": version.id})


@jobs.task(PREVIEWS_JOB)
def run_previews(run: jobs.Run) -> dict:
    """The job `prepare_soon` queued: safe to run again (a second run replaces the first's files)."""
    version = db.session.get(AssetVersion, run.payload["version"])
    if version is None:
        return {"summary": "The version was deleted before its preview was made."}
    previews.prepare(version)
    return {"summary": version.preview_note or f"{version.page_count or 0} pages."}


def versions_without_preview(everything: bool = False) -> list[AssetVersion]:
    """The current file of each asset that should have pages but has none and was never tried (uploaded
    before previews, or while they were off); with `everything`, every current PDF, deck and document."""
    newest = select(AssetVersion.asset_id, func.max(AssetVersion.number).label("number")).group_by(
        AssetVersion.asset_id).subquery()
    query = (select(AssetVersion).join(newest, and_(AssetVersion.asset_id == newest.c.asset_id,
                                                    AssetVersion.number == newest.c.number))
             .where(AssetVersion.file_type.in_(("pdf", "pptx", "docx"))).order_by(AssetVersion.id))
    if not everything:
        query = query.where(or_(
            and_(AssetVersion.file_type == "pdf", AssetVersion.thumbnail_name.is_(None)),
            and_(AssetVersion.file_type != "pdf", AssetVersion.preview_name.is_(None),
                 AssetVersion.preview_note.in_(("", *previews.NOT_TRIED)))))
    return list(db.session.scalars(query))


def set_status(asset: Asset, status: str) -> None:
    with transaction():
        asset.status = AssetStatus(status).value
        asset.updated_at = utcnow()


def delete_asset(asset: Asset) -> None:
    """Delete an asset and its files; usage history keeps its rows with the asset unset."""
    names = [n for v in asset.versions for n in (v.stored_name, v.thumbnail_name, v.preview_name)]
    asset_id = asset.id
    with transaction():
        db.session.delete(asset)
    rollups.forget_asset(asset_id)  # time to find: sessions that found it found something else, or nothing
    storage.discard(*names)


def facets_by_name(*, terms, stages: list[str], kinds: list[str]) -> dict:
    """Facet filters given as names (API callers know names, not ids); unknown names match nothing.
    `terms` is a query string's MultiDict, read by `taxonomy.term_ids_from`."""
    found_stages, unknown_stages = taxonomy.stages_by_name(stages)
    return {
        "term_ids": taxonomy.term_ids_from(terms),
        "stage_ids": [s.id for s in found_stages] + ([-1] if unknown_stages else []),
        "kinds": [k for k in kinds if k],
    }
