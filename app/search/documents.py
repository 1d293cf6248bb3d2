"""The one place that turns assets into search `Document`s."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from app.models import Asset, AssetStatus
from app.search.backend import Document

SOURCE_CHARS = 60_000  # of a file's text, for snippets and "more like this"


def document_of(asset: Asset) -> Document:
    """An asset as the index sees it, with its fingerprint."""
    version = asset.current_version
    document = Document(
        id=asset.id, title=asset.title, kind=asset.kind, kind_label=asset.kind_label, status=asset.status,
        published=asset.status == AssetStatus.PUBLISHED.value, expires_on=asset.expires_on,
        updated_at=asset.updated_at, description=asset.description or "", body=asset.body or "",
        file_text=version.text if version else "", product=asset.product or "", tags=tuple(asset.tags or ()),
        segment_ids=tuple(s.id for s in asset.segments), segment_names=tuple(s.name for s in asset.segments),
        stage_ids=tuple(s.id for s in asset.stages), stage_names=tuple(s.name for s in asset.stages),
    )
    return replace(document, fingerprint=_fingerprint(document))


def _fingerprint(document: Document) -> str:
    fields = asdict(document)
    del fields["fingerprint"]
    return hashlib.sha1(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()


def similarity_text(asset: Asset) -> str:
    """An asset's own words, for "more like this"."""
    version = asset.current_version
    return " ".join([asset.title, asset.description, " ".join(asset.tags), asset.body,
                     version.text[:SOURCE_CHARS] if version else ""])


def _assets(session: Session, ids: Iterable[int] | None = None):
    stmt = select(Asset).options(selectinload(Asset.segments), selectinload(Asset.stages),
                                 selectinload(Asset.versions)).order_by(Asset.id)
    if ids is not None:
        stmt = stmt.where(Asset.id.in_(list(ids)))
    return session.scalars(stmt)


def every_document(session: Session) -> tuple[Iterator[Document], int]:
    """Every asset as a document, read as they are consumed, and how many there are."""
    total = session.scalar(select(func.count()).select_from(Asset))
    return (document_of(asset) for asset in _assets(session)), total


def documents_of(session: Session, asset_ids: Iterable[int]) -> list[Document]:
    """The documents of those assets that still exist."""
    return [document_of(asset) for asset in _assets(session, asset_ids)]
