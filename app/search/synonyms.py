"""Synonym groups, kept by marketers and admins: words or phrases a rep may type for one another
("mid-size, mid-market", "tco, total cost of ownership"). Applied when a query is read
(`matching.py`), so a change counts from the next search on, without reindexing."""
from __future__ import annotations

import re

from sqlalchemy import select

from app.database import transaction
from app.extensions import db
from app.models import Synonym
from app.search.matching import Synonyms, pieces

MAX_MEMBER_CHARS = 80
MAX_MEMBERS = 20


class SynonymError(ValueError):
    """A user-facing reason why a synonym group was refused."""


def groups() -> list[Synonym]:
    """Every group, alphabetically by its first member."""
    return sorted(db.session.scalars(select(Synonym)), key=lambda s: [t.casefold() for t in s.terms])


def members(raw: str) -> list[str]:
    """The members of a group as typed: separated by commas, semicolons or new lines; repeats dropped."""
    seen: dict[tuple[str, ...], str] = {}
    for part in re.split(r"[,;\n]", raw or ""):
        member = " ".join(part.split())
        if pieces(member):
            seen.setdefault(pieces(member), member)
    return list(seen.values())


def save(raw: str, user, synonym: Synonym | None = None) -> Synonym:
    """Create a group from what was typed, or replace an existing group's members."""
    terms = members(raw)
    if len(terms) < 2:
        raise SynonymError("A synonym group needs at least two words or phrases, separated by commas.")
    if len(terms) > MAX_MEMBERS or any(len(t) > MAX_MEMBER_CHARS for t in terms):
        raise SynonymError(f"Keep a group to {MAX_MEMBERS} members of at most {MAX_MEMBER_CHARS} characters.")
    taken = {pieces(t): s for s in groups() if s is not synonym for t in s.terms}
    for term in terms:
        if (other := taken.get(pieces(term))) is not None:
            raise SynonymError(f"{term!r} is already in the group “{', '.join(other.terms)}”; edit that group instead.")
    with transaction():
        synonym = synonym or Synonym()
        synonym.terms = terms
        synonym.updated_by_id = getattr(user, "id", None)
        db.session.add(synonym)
    return synonym


def delete(synonym: Synonym) -> None:
    with transaction():
        db.session.delete(synonym)


def table() -> Synonyms:
    """Each member (as `pieces`) with the other members of its group: what queries are read with."""
    found: dict[tuple[str, ...], list[str]] = {}
    for terms in db.session.scalars(select(Synonym.terms)):
        for term in terms:
            found[pieces(term)] = [t for t in terms if t != term]
    return found


def ensure(groups_to_have: list[str], user=None) -> int:
    """Add the groups (each "a, b, c") none of whose members is in a group yet; returns how many (seeding)."""
    taken = {pieces(t) for s in groups() for t in s.terms}
    added = 0
    for raw in groups_to_have:
        if not any(pieces(t) in taken for t in members(raw)):
            save(raw, user)
            taken.update(pieces(t) for t in members(raw))
            added += 1
    return added
