"""What a search backend is: plain values in and out, no models and no engine types across it.

A backend indexes `Document`s (made from assets by `documents.py` alone) and answers a `Query`
with a `Match`: ranked asset ids and what the page needs besides (total, facet counts, the words
to highlight). Ranking by use and rating, snippets and logging happen above it, in the service.
Today's backend is Whoosh (`app/search/whoosh/`); another is one more package implementing this.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

FACETS = ("segment", "stage", "kind", "product")
Progress = Callable[[int, int], None]  # (documents done, documents in all)
Changes = tuple[list["Document"], list[int]]  # (documents to add or replace, asset ids to remove)


class NeedsRebuild(Exception):
    """The backend has no usable index (missing, damaged, an old schema): rebuild it from the database."""


@dataclass(frozen=True)
class Document:
    """One asset as every backend indexes it, read from the database."""

    id: int
    title: str
    kind: str
    kind_label: str
    status: str
    published: bool
    expires_on: date | None
    updated_at: datetime
    description: str = ""
    body: str = ""  # messaging text
    file_text: str = ""  # the current version's extracted text
    product: str = ""
    tags: tuple[str, ...] = ()
    segment_ids: tuple[int, ...] = ()
    segment_names: tuple[str, ...] = ()
    stage_ids: tuple[int, ...] = ()
    stage_names: tuple[str, ...] = ()
    fingerprint: str = ""  # changes whenever anything above does: how `check` finds drift


@dataclass(frozen=True)
class Query:
    """Words (the user's syntax), facet choices and who is asking, plus how many ranked ids to return."""

    text: str = ""
    filters: Mapping[str, frozenset[str]] = field(default_factory=dict)  # facet → values (OR within one)
    visible_on: date | None = None  # only assets live on this day; None: every asset (drafts too)
    newest_first: bool = False  # order by last change instead of text score
    limit: int | None = None  # ranked ids wanted; None: every match


@dataclass
class Match:
    ids: list[int]  # ranked: best text score first (or newest first), at most `limit`
    scores: list[float]  # text scores of `ids`; zeros when not scored
    total: int  # every match
    facets: dict[str, dict[str, int]]  # facet → value → matches with the other facets' choices
    terms: list[str]  # indexed words the query looked for, to highlight
    scored: bool  # False: the query had no searchable words, so `ids` are newest first
    fell_back: bool = False  # the syntax could not be read and the words were searched plainly


class Backend(Protocol):
    def match(self, query: Query) -> Match:
        """The assets a query finds, ranked, with disjunctive facet counts."""

    def correct(self, text: str, visible_on: date | None) -> str | None:
        """A respelled query that finds something the asker may see, or None."""

    def complete(self, prefix: str, visible_on: date | None, limit: int) -> tuple[list[int], list[str]]:
        """Ids of assets whose title starts with what was typed, and tags starting with it."""

    def similar(self, asset_id: int, text: str, visible_on: date | None, limit: int) -> list[int]:
        """Ids of assets sharing the key terms of `text` (the asset's own), the asset left out."""

    def write(self, read_changes: Callable[[], Changes]) -> bool:
        """Take the index for writing and apply what `read_changes()` returns; False at once, changing
        nothing, when another process is writing. The changes are read only once the index is held,
        so a writer cannot put older data over what a writer before it wrote."""

    def rebuild(self, documents: Iterable[Document], total: int, progress: Progress | None = None) -> int:
        """Build a fresh index of `documents` and swap it in; returns how many were indexed."""

    def fingerprints(self) -> dict[int, str]:
        """Every indexed asset id with the fingerprint it was indexed with."""
