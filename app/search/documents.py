"""The one place that turns assets into search `Document`s, and what is learnt from every document
while an index is built: the lines repeated across most documents of a kind (boilerplate)."""
from __future__ import annotations

import hashlib
import json
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from app.models import Asset, AssetStatus, Term
from app.search.backend import Document
from app.web.markup import markdown_text

SOURCE_CHARS = 60_000  # of a file's text, for snippets


def document_of(asset: Asset) -> Document:
    """An asset as the index sees it, with its fingerprint."""
    version = asset.current_version
    document = Document(
        id=asset.id, title=asset.title, kind=asset.kind, kind_label=asset.kind_label, status=asset.status,
        published=asset.status == AssetStatus.PUBLISHED.value, expires_on=asset.expires_on,
        updated_at=asset.updated_at, description=asset.description or "", body=markdown_text(asset.body or ""),
        file_text=version.text if version else "", product=asset.product or "", tags=tuple(asset.tags or ()),
        terms=tuple((t.dimension_id, t.id) for t in asset.terms), term_names=tuple(t.name for t in asset.terms),
        stage_ids=tuple(s.id for s in asset.stages), stage_names=tuple(s.name for s in asset.stages),
    )
    return replace(document, fingerprint=_fingerprint(document))


def _fingerprint(document: Document) -> str:
    fields = asdict(document)
    del fields["fingerprint"]
    return hashlib.sha1(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()


def _assets(session: Session, ids: Iterable[int] | None = None, after: int | None = None):
    stmt = select(Asset).options(selectinload(Asset.terms).selectinload(Term.dimension), selectinload(Asset.stages),
                                 selectinload(Asset.versions)).order_by(Asset.id)
    if ids is not None:
        stmt = stmt.where(Asset.id.in_(list(ids)))
    if after is not None:
        stmt = stmt.where(Asset.id > after).limit(BATCH)
    return session.scalars(stmt)


BATCH = 500  # assets read at a time by `every_document`


def every_document(session: Session) -> tuple[Iterator[Document], int]:
    """Every asset as a document, read as they are consumed (BATCH at a time, forgotten by `session`,
    which must be the caller's own, once turned into documents: loading 100,000 assets with their
    versions' text at once held ~1.5 GB in a rebuild's parent process), and how many there are."""
    total = session.scalar(select(func.count()).select_from(Asset))
    return _in_batches(session), total


def _in_batches(session: Session) -> Iterator[Document]:
    last = 0
    while True:
        documents = [document_of(asset) for asset in _assets(session, after=last)]
        session.expunge_all()
        if not documents:
            return
        yield from documents
        last = documents[-1].id


def sampled_documents(session: Session, limit: int) -> Iterator[Document]:
    """About `limit` assets spread over the library (every n-th id), as documents."""
    total = session.scalar(select(func.count()).select_from(Asset)) or 0
    step = max(1, total // limit)
    stmt = select(Asset).options(selectinload(Asset.terms).selectinload(Term.dimension),
                                 selectinload(Asset.stages), selectinload(Asset.versions)).order_by(Asset.id)
    if step > 1:
        stmt = stmt.where(Asset.id % step == 0)
    return (document_of(asset) for asset in session.scalars(stmt))


def documents_of(session: Session, asset_ids: Iterable[int]) -> list[Document]:
    """The documents of those assets that still exist."""
    return [document_of(asset) for asset in _assets(session, asset_ids)]


# --- boilerplate -----------------------------------------------------------------------------

BOILERPLATE_SHARE = 0.5  # a line in more than half the documents of a kind (of those read)
BOILERPLATE_MIN_DOCUMENTS = 4
BOILERPLATE_MIN_CHARS = 20  # shorter lines (page numbers, headings) are too common to tell apart
SAMPLE = 2000  # documents read for it at most: every n-th of a large library


def line_key(line: str) -> int:
    """A line's identity, whatever its spacing and case: a stable 32-bit hash (kept with the index)."""
    return zlib.crc32(" ".join(line.casefold().split()).encode())


def text_lines(text: str) -> Iterator[str]:
    return (line for line in text.splitlines() if len(line.strip()) >= BOILERPLATE_MIN_CHARS)


class Boilerplate:
    """Counts lines across the documents of each kind as they stream by (`seen`), sampling every
    n-th of a large library; `lines()` are those in most of a kind's documents."""

    def __init__(self, total: int = 0):
        self.every = max(1, total // SAMPLE)
        self.read = 0
        self.documents: Counter = Counter()
        self.counts: dict[str, Counter] = {}

    def seen(self, documents: Iterable[Document]) -> Iterator[Document]:
        for document in documents:
            if self.read % self.every == 0:
                self.documents[document.kind] += 1
                keys = {line_key(line) for line in text_lines(f"{document.body}\n{document.file_text}")}
                self.counts.setdefault(document.kind, Counter()).update(keys)
            self.read += 1
            yield document

    def lines(self) -> dict[str, list[int]]:
        """Per kind, the keys of the lines in more than BOILERPLATE_SHARE of its documents."""
        return {kind: sorted(key for key, n in counts.items() if n > BOILERPLATE_SHARE * self.documents[kind])
                for kind, counts in self.counts.items() if self.documents[kind] >= BOILERPLATE_MIN_DOCUMENTS}
