"""Marketers' plays: an asset pinned to a cell of the coverage grid (a term × a stage), recommended
first in every deal of that cell."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.database import transaction
from app.deals.records import DealError
from app.extensions import db
from app.models import CONTENT_WRITERS, Asset, AssetStatus, Play, Stage, Term

MAX_NOTE = 200


def plays() -> list[Play]:
    """Every play, by cell."""
    return list(db.session.scalars(
        select(Play).options(joinedload(Play.term).joinedload(Term.dimension), joinedload(Play.stage),
                             joinedload(Play.asset))
        .join(Term, Term.id == Play.term_id).join(Stage, Stage.id == Play.stage_id)
        .order_by(Term.position, Term.name, Stage.position, Play.created_at, Play.id)))


def pin(user, term_id: int, stage_id: int, asset_id: int, note: str = "") -> Play:
    """Pin an asset to a cell; pinning it again only changes the note."""
    if not user.has_role(*CONTENT_WRITERS):
        raise DealError("Only marketers pin plays.")
    term, stage, asset = db.session.get(Term, term_id), db.session.get(Stage, stage_id), db.session.get(Asset, asset_id)
    if term is None or stage is None or asset is None:
        raise DealError("Choose a term, a stage and an asset.")
    if asset.status != AssetStatus.PUBLISHED.value:
        raise DealError(f"“{asset.title}” is not published.")
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise DealError(f"Keep the note under {MAX_NOTE} characters.")
    with transaction():
        play = db.session.scalar(select(Play).where(Play.term_id == term.id, Play.stage_id == stage.id,
                                                    Play.asset_id == asset.id))
        if play is None:
            play = Play(term_id=term.id, stage_id=stage.id, asset_id=asset.id, pinned_by_id=user.id)
            db.session.add(play)
        play.note = note
    return play


def unpin(user, play_id: int) -> bool:
    if not user.has_role(*CONTENT_WRITERS):
        return False
    play = db.session.get(Play, play_id)
    if play is None:
        return False
    with transaction():
        db.session.delete(play)
    return True


def pinnable_assets() -> list[Asset]:
    """Published assets, by title: what a play may pin."""
    return list(db.session.scalars(select(Asset).where(Asset.status == AssetStatus.PUBLISHED.value)
                                   .order_by(Asset.title, Asset.id)))
