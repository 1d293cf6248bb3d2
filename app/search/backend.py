"""What a search backend is: plain values in and out, no models and no engine types across it.

A backend indexes `Document`s (made from assets by `documents.py` alone) and answers a `Query`
with a `Match`: ranked asset ids and what the page needs besides (total, facet counts, the words
to highlight). The query arrives already understood (`matching.py` turns what a rep typed into
it: words, phrases, synonyms, how many words must match), so a backend only evaluates it:

    Word("onboarding")                  the word in any text field (stemmed; "mid-size" as a phrase)
    Word("roi", field="tags")           an exact tag; field="title": the title only
    Word("onboard", prefix=True)        every indexed word starting so
    Phrase("total cost", slop=1)        the words in order; slop n: each within n positions of the last
    Group(parts, minimum)               documents matching at least `minimum` parts; scores add up
                                        (best=True: the best part's score, for a synonym group)
    Not(part)                           every document but those matching `part`

and ranks by BM25F over its text fields, title and taxonomy weighing more than body text:

    score = (Σ matched parts' scores + pair_weight · Σ scores of matched `pairs`)
            × (slots matched / slots) ** coverage

Ranking by use and rating, snippets and logging happen above it, in the service.
Two backends implement it: Whoosh (`app/search/whoosh/`, files in the data directory) and PostgreSQL
(`app/search/postgres/`, in the database); `index.py` picks one (BRIDGE_SEARCH_BACKEND).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

FACETS = ("stage", "kind", "product")  # and one facet per taxonomy dimension: `dimension_facet(id)`
Progress = Callable[[int, int], None]  # (documents done, documents in all)
Changes = tuple[list["Document"], list[int]]  # (documents to add or replace, asset ids to remove)
TEXT_FIELDS = ("title", "keywords", "taxonomy", "body")  # what a Word without a field is looked for in


def dimension_facet(dimension_id: int) -> str:
    """The facet of one taxonomy dimension: its values are term ids."""
    return f"dimension:{dimension_id}"


class NeedsRebuild(Exception):
    """The backend has no usable index (missing, damaged, an old schema): rebuild it from the database."""


class Unreadable(Exception):
    """Part of the index could not be read while answering: answer from elsewhere and rebuild it."""


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
    body: str = ""  # messaging text (Markdown)
    file_text: str = ""  # the current version's extracted text
    product: str = ""
    tags: tuple[str, ...] = ()
    terms: tuple[tuple[int, int], ...] = ()  # (dimension id, term id) of its taxonomy terms
    term_names: tuple[str, ...] = ()
    stage_ids: tuple[int, ...] = ()
    stage_names: tuple[str, ...] = ()
    fingerprint: str = ""  # changes whenever anything above does: how `check` finds drift


# --- the query language ---------------------------------------------------------------------

@dataclass(frozen=True)
class Word:
    text: str
    field: str | None = None  # None: every text field; "title"; "tags" (exact tag)
    prefix: bool = False
    weight: float = 1.0


@dataclass(frozen=True)
class Phrase:
    text: str
    field: str | None = None
    slop: int = 1
    weight: float = 1.0


@dataclass(frozen=True)
class Group:
    parts: tuple[Node, ...]
    minimum: int
    best: bool = False


@dataclass(frozen=True)
class Not:
    part: Node


Node = Word | Phrase | Group | Not


def all_of(parts: Iterable[Node]) -> Node:
    parts = tuple(parts)
    return parts[0] if len(parts) == 1 else Group(parts, len(parts))


def any_of(parts: Iterable[Node], best: bool = False) -> Node:
    parts = tuple(dict.fromkeys(parts))
    return parts[0] if len(parts) == 1 else Group(parts, 1, best)


def words_of(node: Node | None) -> list[Word | Phrase]:
    """Every word and phrase a query looks for (excluded ones left out)."""
    if node is None or isinstance(node, Not):
        return []
    if isinstance(node, Group):
        return [leaf for part in node.parts for leaf in words_of(part)]
    return [node]


@dataclass(frozen=True)
class Query:
    """What to match, facet choices and who is asking, plus how many ranked ids to return."""

    match: Node | None = None  # None: no words to look for: every asset (browsing), newest first
    slots: tuple[Node, ...] = ()  # the parts `coverage` counts: the query's words (or their synonym groups)
    pairs: tuple[Phrase, ...] = ()  # neighbouring words of the query: documents having them together rank higher
    coverage: float = 0.0
    pair_weight: float = 0.0
    filters: Mapping[str, frozenset[str]] = field(default_factory=dict)  # facet → values (OR within one)
    visible_on: date | None = None  # only assets live on this day; None: every asset (drafts too)
    among: frozenset[int] | None = None  # only these asset ids (a filter the database computed: freshness)
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


@dataclass(frozen=True)
class Vocabulary:
    """The indexed words of titles, descriptions, tags, products and taxonomy, unstemmed, with how many
    documents (of any status) hold each: what spelling corrections are drawn from."""

    generation: object  # the same object while the index is unchanged: prepared data may be kept for it
    words: Mapping[str, int]
    # A backend with an index of its words (pg_trgm) gives, instead of every word, the words that
    # look like a misspelt one (within `edits` characters of its length) with their counts.
    near: Callable[[str, int], Mapping[str, int]] | None = None


class Backend(Protocol):
    def match(self, query: Query) -> Match:
        """The assets a query finds, ranked, with disjunctive facet counts."""

    def vocabulary(self) -> Vocabulary:
        """The words of this generation of the index (see `Vocabulary`)."""

    def known(self, words: Iterable[str], visible_on: date | None) -> dict[str, int]:
        """How many documents the asker may see hold each vocabulary word (0 for the others)."""

    def complete(self, prefix: str, visible_on: date | None, limit: int) -> tuple[list[int], list[str]]:
        """Ids of assets whose title starts with what was typed, and tags of visible assets starting with it."""

    def similar(self, asset_id: int, visible_on: date | None, limit: int) -> list[int]:
        """Ids of assets sharing the indexed asset's key terms (kept with it when it was indexed),
        most similar first, the asset left out; [] for an asset not in the index."""

    def write(self, read_changes: Callable[[], Changes]) -> bool:
        """Take the index for writing and apply what `read_changes()` returns; False at once, changing
        nothing, when another process is writing. The changes are read only once the index is held,
        so a writer cannot put older data over what a writer before it wrote."""

    def rebuild(self, documents: Iterable[Document], total: int, progress: Progress | None = None,
                notes: Callable[[], dict] | None = None) -> int:
        """Build a fresh index of `documents` and swap it in; returns how many were indexed. `notes()`,
        called once every document is read, gives small values kept with that index (`notes`)."""

    def notes(self) -> dict:
        """What the last rebuild's `notes()` returned, or `write_notes` wrote since ({} before any)."""

    def write_notes(self, notes: dict) -> None:
        """Replace the notes kept with the index in use."""

    def fingerprints(self) -> dict[int, str]:
        """Every indexed asset id with the fingerprint it was indexed with."""

    def unreadable(self) -> list[str]:
        """Read every part of the index; the parts that cannot be read, described."""
